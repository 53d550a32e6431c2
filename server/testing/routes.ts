import type { App } from "../app.ts";

/** One route of the app as Elysia lists it, with what the generated test matrices need to know. */
export interface AppRoute {
  method: string;
  path: string;
  /** A WebSocket route (Elysia lists these with method "WS"). */
  socket: boolean;
  /** Changes state (not GET/HEAD/OPTIONS, or a socket). */
  unsafe: boolean;
  /** Signed agent routes and unauthenticated operations routes. */
  public: boolean;
  /** Declares a body schema (takes a JSON body). */
  body: boolean;
}

const PUBLIC = [
  /^\/api\/agent\//,
  /^\/healthz$/,
  /^\/readyz$/,
  /^\/install\.(sh|ps1)$/,
  /^\/download\//,
  /^\/\*$/,
  /^\/api\/v1\/openapi/,
  /^\/api\/v1\/auth\/oidc\/(providers|start|callback)$/,
];
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Every route the app serves, read from the app itself, so a matrix built on it covers a new
 * route the day it is added. Trailing-slash twins are dropped.
 */
export function appRoutes(app: App): AppRoute[] {
  const seen = new Set<string>();
  const out: AppRoute[] = [];
  for (const r of app.routes) {
    const method = String(r.method).toUpperCase();
    const path = r.path.length > 1 ? r.path.replace(/\/$/, "") : r.path;
    const key = `${method} ${path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const socket = method === "WS";
    out.push({
      method: socket ? "GET" : method,
      path,
      socket,
      unsafe: socket || !SAFE.has(method),
      public: PUBLIC.some((p) => p.test(path)) || path === "/api/v1/auth/login",
      body: Boolean((r.hooks as { body?: unknown } | undefined)?.body),
    });
  }
  return out;
}

/**
 * Query strings routes require before they look anything up (a request without one is a 422 before
 * the id is even read), so the matrices reach the lookup: `"METHOD /path"` → `?…`.
 */
export const REQUIRED_QUERY: Record<string, string> = {
  "GET /api/v1/devices/:id/health/history": "?kind=temperature",
};

/** The route's path with every `:param` filled by `fill(name)` and `*` by a harmless segment. */
export function concretePath(path: string, fill: (param: string) => string): string {
  return path.replace(/:(\w+)/g, (_, name: string) => fill(name)).replace(/\*$/, "x");
}
