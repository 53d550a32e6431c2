import { treaty } from "@elysiajs/eden";
import type { App } from "../../../server/app.ts";
import { sessionExpired } from "./session-events.ts";

/** The one typed client of the dashboard, built from the server's own `App` type; the session cookie rides along. */
export const api = treaty<App>(location.origin, { fetch: { credentials: "include" } });

/** A failed API call: the server's `{ error: { code, message, details? } }`, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

interface EdenResult {
  data: unknown;
  error: { status: unknown; value: unknown } | null;
}

function toApiError(error: { status: unknown; value: unknown }): ApiError {
  const status = typeof error.status === "number" ? error.status : 0;
  const body = error.value as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined;
  if (body && typeof body === "object" && body.error && typeof body.error.message === "string") {
    const details = body.error.details && typeof body.error.details === "object" ? (body.error.details as Record<string, unknown>) : {};
    return new ApiError(status, String(body.error.code ?? "ERROR"), body.error.message, details);
  }
  if (error.value instanceof Error || status === 503)
    return new ApiError(0, "NETWORK", "the server cannot be reached; check your connection and try again");
  return new ApiError(
    status,
    `HTTP_${status}`,
    typeof error.value === "string" && error.value ? error.value : `request failed (${status})`,
  );
}

/**
 * Awaits an Eden call and returns its data, or throws an `ApiError` carrying the server's message.
 * A 401 means the session is gone: unless `auth: false` (the sign-in call itself), the app goes back
 * to the login page, remembering where the technician was.
 */
export async function call<R extends EdenResult>(request: Promise<R>, opts: { auth?: boolean } = {}): Promise<Exclude<R["data"], null>> {
  let res: R;
  try {
    res = await request;
  } catch {
    throw new ApiError(0, "NETWORK", "the server cannot be reached; check your connection and try again");
  }
  if (res.error) {
    const err = toApiError(res.error);
    if (err.status === 401 && opts.auth !== false) sessionExpired();
    throw err;
  }
  return res.data as Exclude<R["data"], null>;
}

/** The message to show for anything thrown by `call`. */
export function errorMessage(e: unknown): string {
  const text = e instanceof Error && e.message ? e.message : "something went wrong";
  return text.charAt(0).toUpperCase() + text.slice(1);
}
