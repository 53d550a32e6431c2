import { Elysia } from "elysia";
import { AppError, BadRequest, errorBody } from "./errors.ts";
import { MAX_BODY_BYTES } from "./http.ts";

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * What a request body may be, for every route: at most MAX_BODY_BYTES (413 with a code: from the
 * declared length before anything is read, or from the text for bodies sent without one; Bun's own
 * limit, twice that, is the hard stop), and on the JSON API a JSON object (a malformed body, an array
 * or a bare value is 400 INVALID_BODY before any handler). Routes that read their body as text (the
 * signed agent beacon) parse it themselves.
 */
export const bodyRules = new Elysia({ name: "sentpulse/body" })
  .onRequest(({ request, set }) => {
    const length = Number(request.headers.get("content-length") ?? 0);
    if (length <= MAX_BODY_BYTES) return;
    set.status = 413;
    set.headers["content-type"] = "application/json";
    set.headers.connection = "close";
    return errorBody("PAYLOAD_TOO_LARGE", `bodies may be at most ${MAX_BODY_BYTES} bytes`);
  })
  .onParse({ as: "global" }, async ({ request, contentType }) => {
    if (!JSON_TYPE.test(contentType)) return;
    const text = await request.text();
    if (text.length > MAX_BODY_BYTES) throw new AppError(413, "PAYLOAD_TOO_LARGE", `bodies may be at most ${MAX_BODY_BYTES} bytes`);
    if (text.trim() === "") return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new BadRequest("INVALID_BODY", "the request body is not valid JSON");
    }
    if (value === null || typeof value !== "object" || Array.isArray(value))
      throw new BadRequest("INVALID_BODY", "the request body must be a JSON object");
    return value;
  });
