import { Elysia } from "elysia";
import type { Sql } from "postgres";
import type { EventBus } from "../events/bus.ts";
import { Forbidden, Unauthorized } from "../errors.ts";
import { sha256 } from "../lib/crypto.ts";
import { SIGNED_IN, errors } from "../lib/schemas.ts";
import { can, type Permission } from "./permissions.ts";
import type { Principal } from "./roles.ts";
import { principalForApiKey, principalForSession } from "./store.ts";

export const SESSION_COOKIE = "sentpulse_session";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** Sliding session lifetime in seconds. */
export const SESSION_TTL_S = 12 * 60 * 60;

/** How long a resolved principal is reused for the same session or key, ms (a program polling the API asks the database once a second). */
const PRINCIPAL_CACHE_MS = 1_000;
const PRINCIPAL_CACHE_MAX = 10_000;
/** Bumped by every state change this node serves (see `forgetPrincipals`). */
let generation = 0;
const principalCache = new Map<string, { principal: Principal; until: number; generation: number }>();

/**
 * Empties the principal cache. Every authenticated state change publishes `principals.changed` once
 * its handler is done (`principalChanges`), and every node empties its cache on it: a revoked key or
 * session, a disabled user, a changed role or reach is refused or narrowed at the very next request
 * (on another node, once the bus delivers it; a change made outside the API, within PRINCIPAL_CACHE_MS).
 */
export function forgetPrincipals(): void {
  generation++;
  principalCache.clear();
}

/** The principal of a token hash: from the cache while fresh, else loaded (and kept unless a change raced the load). */
async function cached(key: string, load: () => Promise<Principal | undefined>): Promise<Principal | undefined> {
  const now = performance.now();
  const hit = principalCache.get(key);
  if (hit && hit.until > now && hit.generation === generation) return { ...hit.principal };
  const started = generation;
  const principal = await load();
  if (principal && started === generation) {
    if (principalCache.size >= PRINCIPAL_CACHE_MAX) principalCache.clear();
    principalCache.set(key, { principal, until: now + PRINCIPAL_CACHE_MS, generation: started });
  }
  return principal && { ...principal };
}

/**
 * Announces every state change made with a session or an API key once its handler is done (a
 * revocation, a disabled user, a narrowed role may be among them): the subscriber in
 * `auth/reactions.ts` empties each node's principal cache before this answer leaves.
 */
export function principalChanges(bus: EventBus) {
  return new Elysia().onAfterHandle({ as: "global" }, ({ request }) => {
    if (SAFE_METHODS.has(request.method)) return;
    if (!request.headers.has("cookie") && !request.headers.get("authorization")?.startsWith("Bearer ")) return;
    bus.publish("principals.changed", {});
  });
}

/** Reads the session cookie or the `Authorization: Bearer` API key and resolves the principal. */
export async function resolvePrincipal(sql: Sql, headers: Headers): Promise<Principal | undefined> {
  const authz = headers.get("authorization");
  if (authz?.startsWith("Bearer ")) {
    const key = authz.slice(7).trim();
    if (key.length < 10 || key.length > 200) return undefined;
    const hash = sha256(key);
    return cached(`k${hash.toString("hex")}`, () => principalForApiKey(sql, hash));
  }
  const token = readCookie(headers.get("cookie"), SESSION_COOKIE);
  if (!token || token.length > 200) return undefined;
  const hash = sha256(token);
  return cached(`s${hash.toString("hex")}`, () => principalForSession(sql, hash, SESSION_TTL_S));
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
 * What a route needs: a named permission, any one of several (the handler then asks `can` for the
 * exact one, as commands do), or `"signed-in"` for the caller's own account (sign out, who am I,
 * two-factor, password, own sessions), which any principal may use.
 */
export type Needed = Permission | readonly Permission[] | "signed-in";

/**
 * The OpenAPI extension naming what a route needs (`x-permission`), which the permission matrix reads
 * back from the route list. The macro adds it; a socket (which cannot take the macro) spreads it into
 * its `detail` beside its own `can` check.
 */
export function declares(needed: Needed): object {
  return { "x-permission": [needed].flat().join(" | ") };
}

/** True when the principal meets what a route needs. */
function meets(principal: Principal, needed: Needed): boolean {
  if (needed === "signed-in") return true;
  if (typeof needed === "string") return can(principal, needed);
  return needed.some((p) => can(principal, p));
}

/**
 * `{ permission: "alert:manage" }` on a route: 401 without a valid session or key, 403 when the
 * principal lacks the permission (checked by `can`, the one check); the handler receives `principal`.
 * The check runs in the transform phase, before body and query validation, so a caller without the
 * permission learns nothing about a route's input. It also documents the route: the cookie-or-bearer
 * security requirement, the 401/403 bodies and `x-permission` (what the route needs, which the tests read
 * back from the route list to prove every route declares one).
 */
export function authPlugin(sql: Sql) {
  const principals = new WeakMap<Request, Principal>();
  return new Elysia({ name: "sentpulse/auth" }).macro({
    permission: (needed: Needed) => ({
      detail: { security: SIGNED_IN, ...declares(needed) },
      response: errors(401, 403),
      async transform({ request, server }: { request: Request; server: { requestIP(r: Request): { address: string } | null } | null }) {
        const principal = await resolvePrincipal(sql, request.headers);
        if (!principal) throw new Unauthorized();
        // the socket's peer, for the audit entries this request writes
        principal.ip = server?.requestIP(request)?.address ?? null;
        if (!meets(principal, needed)) throw new Forbidden("FORBIDDEN", `this needs the ${[needed].flat().join(" or ")} permission`);
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
