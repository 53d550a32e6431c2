import { Elysia, ValidationError } from "elysia";
import { AppError, errorBody } from "./errors.ts";
import { log } from "./log.ts";

/** Most bytes any HTTP body may carry (agent beacons included); larger bodies get 413. */
export const MAX_BODY_BYTES = 1_048_576;

interface Issue {
  path: string;
  message: string;
}

function validationIssues(error: ValidationError): Issue[] {
  try {
    return error.all.slice(0, 20).map((e) => {
      const raw = e as { path?: unknown; summary?: unknown; message?: unknown };
      const path = Array.isArray(raw.path)
        ? raw.path.map((p) => (typeof p === "object" && p && "key" in p ? String(p.key) : String(p))).join(".")
        : String(raw.path ?? "")
            .replace(/^\//, "")
            .replaceAll("/", ".");
      return { path, message: String(raw.summary ?? raw.message ?? "invalid") };
    });
  } catch {
    return [];
  }
}

/**
 * Maps every error to `{ error: { code, message, details } }` with a fitting status:
 * AppError by its own status, invalid input 422 naming the fields (an unparsable body 400),
 * a response that breaks its schema 500, unknown routes 404,
 * unique violations 409, anything else 500 (logged with its code, never the request body).
 */
export const errorHandler = new Elysia({ name: "sentpulse/errors" }).onError({ as: "global" }, ({ code, error, set, request, path }) => {
  set.headers["content-type"] = "application/json";
  if (error instanceof AppError) {
    set.status = error.status;
    return errorBody(error.code, error.message, error.details);
  }
  if (code === "VALIDATION" && error instanceof ValidationError && error.type === "response") {
    set.status = 500;
    log("error", "a response does not match its schema", { path, method: request.method, issues: validationIssues(error) });
    return errorBody("INTERNAL", "something went wrong on the server");
  }
  if (code === "VALIDATION" && error instanceof ValidationError) {
    set.status = 422;
    const issues = validationIssues(error);
    const where = issues.map((i) => i.path || error.type).join(", ");
    return errorBody("VALIDATION_FAILED", `invalid ${error.type}${where ? `: ${where}` : ""}`, { in: error.type, issues });
  }
  if (code === "PARSE") {
    set.status = 400;
    return errorBody("INVALID_BODY", "the request body could not be parsed");
  }
  if (code === "NOT_FOUND") {
    set.status = 404;
    return errorBody("ROUTE_NOT_FOUND", `no route ${request.method} ${path}`);
  }
  const pg = error as { code?: unknown; constraint_name?: unknown };
  if (pg.code === "23505") {
    set.status = 409;
    return errorBody("CONFLICT", "that already exists", {
      constraint: String(pg.constraint_name ?? ""),
    });
  }
  if (pg.code === "22P02") {
    set.status = 400;
    return errorBody("INVALID_VALUE", "a value has the wrong format");
  }
  const status = typeof (error as { status?: unknown }).status === "number" ? (error as { status: number }).status : 500;
  if (status >= 400 && status < 500) {
    set.status = status;
    return errorBody("BAD_REQUEST", error instanceof Error ? error.message : "bad request");
  }
  set.status = 500;
  log("error", "unhandled error", {
    path,
    method: request.method,
    code: String(pg.code ?? code),
    error: error instanceof Error ? error.message : String(error),
  });
  return errorBody("INTERNAL", "something went wrong on the server");
});

/** Paging query shared by list endpoints. */
export const pageLimit = (limit: number | undefined, fallback = 50, max = 500) => Math.min(Math.max(limit ?? fallback, 1), max);
