/** An error with a stable code that the API maps to an HTTP status and a JSON body. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export class BadRequest extends AppError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(400, code, message, details);
  }
}

/** Input that parses but breaks a rule (422 `VALIDATION_FAILED`, like a schema mismatch). */
export class ValidationFailed extends AppError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(422, "VALIDATION_FAILED", message, details);
  }
}

export class Unauthorized extends AppError {
  constructor(code = "UNAUTHENTICATED", message = "sign in first") {
    super(401, code, message);
  }
}

export class Forbidden extends AppError {
  constructor(code = "FORBIDDEN", message = "your role does not allow this") {
    super(403, code, message);
  }
}

export class NotFound extends AppError {
  constructor(code: string, message: string) {
    super(404, code, message);
  }
}

export class Conflict extends AppError {
  constructor(code: string, message: string) {
    super(409, code, message);
  }
}

export class TooManyRequests extends AppError {
  constructor(message = "slow down") {
    super(429, "RATE_LIMITED", message);
  }
}

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

export function errorBody(code: string, message: string, details?: Record<string, unknown>): ErrorBody {
  return { error: details ? { code, message, details } : { code, message } };
}
