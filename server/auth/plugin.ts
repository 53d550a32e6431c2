import { Elysia } from "elysia";
import type { Sql } from "postgres";
import { Forbidden, Unauthorized } from "../errors.ts";
import { sha256 } from "../lib/crypto.ts";
import { SIGNED_IN, errors } from "../lib/schemas.ts";
import { type Principal, type Role, roleAtLeast } from "./roles.ts";
import { principalForApiKey, principalForSession } from "./store.ts";

export const SESSION_COOKIE = "sentpulse_session";
/** Sliding session lifetime in seconds. */
export const SESSION_TTL_S = 12 * 60 * 60;

/** Reads the session cookie or the `Authorization: Bearer` API key and resolves the principal. */
export async function resolvePrincipal(sql: Sql, headers: Headers): Promise<Principal | undefined> {
  const authz = headers.get("authorization");
  if (authz?.startsWith("Bearer ")) {
    const key = authz.slice(7).trim();
    if (key.length < 10 || key.length > 200) return undefined;
    return principalForApiKey(sql, sha256(key));
  }
  const token = readCookie(headers.get("cookie"), SESSION_COOKIE);
  if (!token || token.length > 200) return undefined;
  return principalForSession(sql, sha256(token), SESSION_TTL_S);
}

/** One cookie's value from a Cookie header. */
export function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/**
 * `{ role: "technician" }` on a route: 401 without a valid session or key, 403 when the role is
 * below the one named; the handler receives `principal`. The check runs in the transform phase,
 * before body and query validation, so an anonymous caller learns nothing about a route's input.
 * It also documents the route: the cookie-or-bearer security requirement and the 401/403 bodies.
 */
export function authPlugin(sql: Sql) {
  const principals = new WeakMap<Request, Principal>();
  return new Elysia({ name: "sentpulse/auth" }).macro({
    role: (needed: Role) => ({
      detail: { security: SIGNED_IN },
      response: errors(401, 403),
      async transform({ request }: { request: Request }) {
        const principal = await resolvePrincipal(sql, request.headers);
        if (!principal) throw new Unauthorized();
        if (!roleAtLeast(principal.role, needed)) throw new Forbidden("FORBIDDEN", `this needs the ${needed} role or higher`);
        principals.set(request, principal);
      },
      resolve({ request }: { request: Request }) {
        const principal = principals.get(request);
        if (!principal) throw new Unauthorized();
        return { principal };
      },
    }),
  });
}
