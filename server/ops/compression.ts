import { Elysia } from "elysia";

/** JSON bodies at least this long are gzipped for a client that accepts it; shorter ones are not worth it. */
export const COMPRESS_FROM_BYTES = 1024;
/** Fast gzip: a 28 kB device page in ~0.03 ms to ~6 kB (level 6 takes three times as long for 4 kB). */
const LEVEL = 1;

/** Whether the request's `Accept-Encoding` names gzip with a non-zero weight (browsers and fetch always do). */
export function acceptsGzip(request: Request): boolean {
  const header = request.headers.get("accept-encoding");
  if (!header || header.length > 1024) return false;
  for (const part of header.split(",")) {
    const [name, ...params] = part.split(";").map((p) => p.trim().toLowerCase());
    if (name !== "gzip") continue;
    const q = params.find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

/**
 * A JSON body ready to send, compressed at most once however many requests it answers (the device
 * list shares one read among identical requests).
 */
export class JsonBody {
  private gzipped: Uint8Array<ArrayBuffer> | undefined;

  constructor(readonly raw: Uint8Array<ArrayBuffer>) {}

  /** The response for this request: gzipped when it accepts gzip and the body is long enough. */
  respond(request: Request, status = 200): Response {
    if (this.raw.byteLength < COMPRESS_FROM_BYTES || !acceptsGzip(request))
      return new Response(this.raw, { status, headers: { "content-type": "application/json", vary: "accept-encoding" } });
    this.gzipped ??= Bun.gzipSync(this.raw, { level: LEVEL });
    return new Response(this.gzipped, {
      status,
      headers: { "content-type": "application/json", "content-encoding": "gzip", vary: "accept-encoding" },
    });
  }
}

/**
 * Gzip for JSON answers to GET requests, from COMPRESS_FROM_BYTES, when the client accepts it. Besides
 * the bytes a technician's browser saves over a slow link, it keeps big answers fast here: Bun
 * 1.4.4 writes a response of 16 kB or more that is finished after an `await` (every database
 * answer) uncorked, one `send()` per header fragment (`HTTP/1.1 `, `200 OK`, `\r\n`, each name,
 * `: `, each value…, ~40 per response with the security headers), which cost a 28 kB device page
 * 0.27 ms of CPU against 0.05 ms for a 15 kB one (oven-sh/bun pull request 41341, open). Gzipped,
 * such pages fit the 16 kB cork buffer and leave in one `send()`. Only GET: an answer to a change
 * (a new API key, an enrollment token) is never compressed, so a secret never shares a compressed
 * stream with text an attacker chose (BREACH).
 */
export const compression = new Elysia({ name: "compression" }).mapResponse({ as: "global" }, ({ request, response, set }) => {
  if (request.method !== "GET" || response === null || typeof response !== "object") return;
  const proto = Object.getPrototypeOf(response);
  if ((proto !== Object.prototype && proto !== Array.prototype) || !acceptsGzip(request)) return;
  const json = JSON.stringify(response);
  const status = typeof set.status === "number" ? set.status : 200;
  // a short answer leaves as it is, from this serialisation (not Elysia's second one)
  if (json.length < COMPRESS_FROM_BYTES) return new Response(json, { status, headers: { "content-type": "application/json" } });
  return new JsonBody(Buffer.from(json)).respond(request, status);
});
