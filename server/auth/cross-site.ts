import { Elysia } from "elysia";
import { errorBody } from "../errors.ts";
import { requestUrl } from "../lib/request-url.ts";

/** Methods that change nothing; everything else is a state change. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** Paths whose callers are programs that prove themselves another way (HMAC-signed agent routes). */
const AGENT_PREFIX = "/api/agent/";
/** The only body type of the JSON API; a cross-site `<form>` can send none of it without CORS. */
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
/**
 * The tus upload chunks of the file explorer (server/files/uploads.ts): a type no form can send and no
 * other site's script can send without a CORS preflight, which this server never grants.
 */
const TUS_TYPE = /^application\/offset\+octet-stream\s*(?:;|$)/i;
const TUS_PATH = /^\/api\/v1\/devices\/[^/]+\/files\/uploads(?:\/|$)/;

export interface CrossSiteOptions {
  /** The public URL of the dashboard (its origin is trusted). */
  publicUrl: string;
  /** More trusted origins (`SENTPULSE_ALLOWED_ORIGINS`), e.g. a second host name of the dashboard. */
  allowedOrigins: readonly string[];
}

export type CrossSiteVerdict = { ok: true } | { ok: false; status: 403 | 415; code: string; message: string };

/** The trusted origins in the normalised form of an `Origin` header (`scheme://host[:port]`). */
export function trustedOrigins(o: CrossSiteOptions): Set<string> {
  return new Set([o.publicUrl, ...o.allowedOrigins].map((u) => new URL(u).origin));
}

/**
 * Decides whether a request may have an effect, before routing:
 * - a browser WebSocket upgrade or a state-changing request from another site is refused (403);
 *   "from another site" follows Go 1.25's `http.CrossOriginProtection`: `Sec-Fetch-Site` when the
 *   browser sends it, else `Origin` against the request's own host, else (no browser header at all)
 *   a program such as curl, which a web page cannot make send the user's cookie;
 * - trusted origins (the public URL and the allowlist) pass either way;
 * - a state-changing request to the JSON API with a body that is not JSON is refused (415), so no
 *   cross-site form can reach a handler even where a browser omits both headers;
 * - bearer API keys and the signed agent routes are not cookie-authenticated and are left alone.
 */
export function checkCrossSite(request: Request, trusted: ReadonlySet<string>): CrossSiteVerdict {
  const h = request.headers;
  const path = requestUrl(request).pathname;
  const upgrade = h.get("upgrade")?.toLowerCase() === "websocket";
  if (SAFE_METHODS.has(request.method) && !upgrade) return { ok: true };
  if (path.startsWith(AGENT_PREFIX) || h.get("authorization")?.startsWith("Bearer ")) return { ok: true };
  if (!sameOrigin(h, trusted)) {
    return {
      ok: false,
      status: 403,
      code: "CROSS_SITE_REFUSED",
      message: `requests from ${h.get("origin") ?? "another site"} may not ${upgrade ? "open this socket" : "change anything"}`,
    };
  }
  const type = h.get("content-type") ?? "";
  if (!upgrade && path.startsWith("/api/") && hasBody(h) && !JSON_TYPE.test(type) && !(TUS_PATH.test(path) && TUS_TYPE.test(type))) {
    return { ok: false, status: 415, code: "UNSUPPORTED_MEDIA_TYPE", message: "send the body as application/json" };
  }
  return { ok: true };
}

function sameOrigin(h: Headers, trusted: ReadonlySet<string>): boolean {
  const origin = h.get("origin");
  if (origin !== null && trusted.has(origin)) return true;
  const site = h.get("sec-fetch-site");
  if (site !== null) return site === "same-origin" || site === "none";
  if (origin === null) return true;
  try {
    return new URL(origin).host === h.get("host");
  } catch {
    return false; // "null" (sandboxed frames, file:) and garbage
  }
}

function hasBody(h: Headers): boolean {
  const length = h.get("content-length");
  return (length !== null && length !== "0") || h.has("transfer-encoding") || h.has("content-type");
}

/**
 * The cross-site guard as a global `onRequest` hook: it runs before any route is matched, so every
 * route and socket, including ones added later, is covered without opting in.
 */
export function crossSiteGuard(o: CrossSiteOptions) {
  const trusted = trustedOrigins(o);
  return new Elysia({ name: "sentpulse/cross-site" }).onRequest(({ request, set }) => {
    const verdict = checkCrossSite(request, trusted);
    if (verdict.ok) return;
    set.status = verdict.status;
    set.headers["content-type"] = "application/json";
    return errorBody(verdict.code, verdict.message);
  });
}
