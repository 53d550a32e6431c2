import { type Type, type } from "arktype";

/**
 * Response schemas shared by every route, and the one conversion of arktype schemas to the JSON
 * Schema of the OpenAPI document. Timestamps are `Date` objects in handlers (postgres returns them)
 * and ISO-8601 strings on the wire: the conversion documents `Date` as `string` `date-time`.
 */

/** The body of every error response: `{ error: { code, message, details? } }` (see errors.ts). */
export const ErrorBody = type({
  error: { code: "string", message: "string", "details?": "Record<string, unknown>" },
});

/** Error statuses a route may document; each answers with `ErrorBody`. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 410 | 413 | 415 | 422 | 429 | 503;

/** `{ [status]: ErrorBody }` for the given statuses, to spread into a route's `response`. */
export function errors<const S extends ErrorStatus>(...statuses: S[]): { [K in S]: typeof ErrorBody } {
  return Object.fromEntries(statuses.map((s) => [s, ErrorBody])) as { [K in S]: typeof ErrorBody };
}

/** `{ ok: true }`: the answer of deletes and other actions with nothing else to say. */
export const Ok = type({ ok: "true" });
/** A point in time: a `Date` in the handler, an ISO-8601 string in JSON. */
export const Timestamp = type("Date");
/** A role, lowest to highest: readonly, technician, admin, owner. */
export const RoleName = type("'owner' | 'admin' | 'technician' | 'readonly'");
/** Who did something (see audit/actor.ts): a user, an API key, or a rule, workflow or schedule. */
export const ActorRef = type({ type: "'user' | 'api_key' | 'rule' | 'workflow' | 'schedule'", id: "string", name: "string" });
/** The `:id` path parameter of most routes. */
export const IdParam = type({ id: "string.uuid" });

/** `{ items }`: an unpaged list, e.g. `listOf(Script)`. */
export const listOf = type("<item>", { items: "item[]" });

/** `{ items, nextCursor, total }`: one page of a paged list (see API.md), e.g. `pageOf(Device)`. */
export const pageOf = type("<item>", { items: "item[]", nextCursor: "string | null", total: "number" });

/** Security requirement of a route open to a session cookie or an API key (the `role` macro sets it). */
export const SIGNED_IN: Record<string, string[]>[] = [{ cookie: [] }, { bearer: [] }];

type JsonSchema = Record<string, unknown>;

/**
 * OpenAPI response objects for a route that documents its answers without a runtime response
 * schema (the agent beacon: a hot path, and its answer is built by typed code): the success body,
 * then the given error statuses with `ErrorBody`.
 */
export function documentedResponses(
  description: string,
  schema: Type,
  ...statuses: ErrorStatus[]
): Record<string, { description: string; content: Record<string, { schema: JsonSchema }> }> {
  return {
    200: { description, content: { "application/json": { schema: arktypeJsonSchema(schema) } } },
    ...Object.fromEntries(
      statuses.map((s) => [s, { description: `Error ${s}`, content: { "application/json": { schema: arktypeJsonSchema(ErrorBody) } } }]),
    ),
  };
}

/** The same for a route that answers with a file or a text of the given media type. */
export function fileResponses(
  description: string,
  mediaType: string,
  ...statuses: ErrorStatus[]
): Record<string, { description: string; content: Record<string, { schema: JsonSchema }> }> {
  const { 200: _, ...errors } = documentedResponses(description, ErrorBody, ...statuses);
  const schema = mediaType.startsWith("text/") ? { type: "string" } : { type: "string", format: "binary" };
  return { 200: { description, content: { [mediaType]: { schema } } }, ...errors };
}

/**
 * The JSON Schema of an arktype schema's input side (request morphs such as `string.integer.parse`
 * document what the client sends), with `Date` as a date-time string and constraints JSON Schema
 * cannot say (predicates, morph outputs) left out instead of throwing.
 */
export function arktypeJsonSchema(schema: Type): JsonSchema {
  const { $schema: _, ...json } = schema.in.toJsonSchema({
    fallback: {
      date: (ctx) => ({ ...ctx.base, type: "string", format: "date-time" }),
      default: (ctx) => ctx.base,
    },
  }) as JsonSchema;
  return json;
}
