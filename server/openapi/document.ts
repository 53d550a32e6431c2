import { toOpenAPISchema } from "@elysiajs/openapi/openapi";
import type { Type } from "arktype";
import type { AnyElysia } from "elysia";
import { SESSION_COOKIE } from "../auth/plugin.ts";
import { ErrorBody, arktypeJsonSchema } from "../lib/schemas.ts";
import { VERSION } from "../version.ts";

type Json = Record<string, unknown>;
interface Operation extends Json {
  parameters?: Json[];
  requestBody?: { content?: Record<string, unknown> };
  responses?: Record<string, Json>;
  security?: unknown[];
}

const ERROR_REF = { $ref: "#/components/schemas/ErrorBody" };
const ERROR_SCHEMA = JSON.stringify(arktypeJsonSchema(ErrorBody));
const errorResponse = (description: string): Json => ({ description, content: { "application/json": { schema: ERROR_REF } } });

/** What an error status means on this API (the `code` in the body says precisely). */
const ERROR_MEANING: Record<string, string> = {
  "400": "The request cannot be carried out as given",
  "401": "Not signed in: no valid session cookie or API key (or, for agents, no valid signature)",
  "403": "Signed in, but the role does not allow this",
  "404": "No such resource in your organization",
  "409": "Conflicts with the current state",
  "410": "No longer valid",
  "415": "The body is not `application/json`",
  "422": "A parameter or the body does not match its schema (`VALIDATION_FAILED`, the fields in `details.issues`)",
  "429": "Too many attempts; wait before trying again",
  "503": "Not ready or busy; retry later",
};

/**
 * The OpenAPI 3.1 document of the app's routes. The routes' own schemas give parameters, bodies
 * and responses; this adds what holds for every route: security from the `role` macro (cookie or
 * bearer; none elsewhere), the 415/422 answers of the global checks, the shared error body as a
 * component, WebSocket routes as `GET` with a 101 answer and `x-websocket`, no trailing slashes,
 * and the public URL as the server.
 */
export function openApiDocument(app: AnyElysia, publicUrl: string): Json {
  const generated = toOpenAPISchema(app, { staticFile: false, paths: ["/*"] }, undefined, {
    arktype: arktypeJsonSchema,
  });
  const paths: Record<string, Record<string, Operation>> = {};
  const bodies = jsonBodies(app);
  const declared = declaredContent(app);
  for (const [rawPath, item] of Object.entries(generated.paths as Record<string, Record<string, Operation>>)) {
    const path = rawPath.length > 1 ? rawPath.replace(/\/+$/, "") : rawPath;
    for (const [rawMethod, op] of Object.entries(item)) {
      const method = rawMethod === "ws" ? "get" : rawMethod;
      const body = bodies.get(`${method} ${path}`);
      if (op.requestBody && Object.keys(op.requestBody.content ?? {}).length === 0 && body)
        op.requestBody.content = { "application/json": { schema: body } };
      paths[path] ??= {};
      const target = paths[path];
      if (target[method]) throw new Error(`two operations for ${method.toUpperCase()} ${path}`);
      target[method] = rawMethod === "ws" ? webSocket(op) : complete(withDeclared(op, declared.get(`${method} ${path}`)));
    }
  }
  return {
    openapi: "3.1.1",
    info: {
      title: "SENTpulse API",
      version: VERSION,
      description:
        "Remote monitoring and management. The dashboard authenticates with its session cookie, programs with " +
        "`Authorization: Bearer <API key>`. Agents sign their requests with their device secret instead.",
    },
    servers: [{ url: publicUrl }],
    paths,
    components: {
      schemas: { ErrorBody: JSON.parse(ERROR_SCHEMA) },
      securitySchemes: {
        cookie: { type: "apiKey", in: "cookie", name: SESSION_COOKIE, description: "The session cookie `POST /api/v1/auth/login` sets" },
        bearer: { type: "http", scheme: "bearer", description: "An API key (`POST /api/v1/api-keys`)" },
      },
    },
  };
}

/**
 * The JSON Schema of each route's body, by `method path`: the global JSON parser (server/body.ts) is
 * a function, so the generator leaves the body's content empty and it is filled from here.
 */
function jsonBodies(app: AnyElysia): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const r of app.routes) {
    const body: unknown = r.hooks?.body;
    if (typeof body !== "function" || !("toJsonSchema" in body)) continue;
    const path = r.path.replace(/:(\w+)/g, "{$1}").replace(/(.)\/+$/, "$1");
    out.set(`${r.method.toLowerCase()} ${path}`, arktypeJsonSchema(body as Type));
  }
  return out;
}

/**
 * The `detail.responses` of each route, by `method path`: the generator lets a route's response
 * schemas replace them (the permission macro's 401/403 among them), so media types a route declares
 * besides JSON (the audit log's `text/csv`, a file download's bytes) are added back from here.
 */
function declaredContent(app: AnyElysia): Map<string, Record<string, Json>> {
  const out = new Map<string, Record<string, Json>>();
  for (const r of app.routes) {
    const responses = (r.hooks?.detail as { responses?: Record<string, Json> } | undefined)?.responses;
    if (!responses) continue;
    const path = r.path.replace(/:(\w+)/g, "{$1}").replace(/(.)\/+$/, "$1");
    out.set(`${r.method.toLowerCase()} ${path}`, responses);
  }
  return out;
}

/** The operation with the media types its route declared added to the generated ones, status by status. */
function withDeclared(op: Operation, declared: Record<string, Json> | undefined): Operation {
  if (!declared) return op;
  const responses = { ...op.responses };
  for (const [status, response] of Object.entries(declared)) {
    const generated = responses[status] ?? {};
    const content = { ...(response.content as Json), ...(generated.content as Json) };
    // an answer of headers only (a tus upload's) stays without content
    responses[status] = { ...generated, ...response, ...(Object.keys(content).length > 0 ? { content } : {}) };
  }
  return { ...op, responses };
}

/** An HTTP operation with its JSON-only body, the global error answers and explicit security. */
function complete(op: Operation): Operation {
  const responses = sharedErrors(op.responses ?? {});
  const json = op.requestBody?.content?.["application/json"];
  if (op.requestBody && json) {
    op.requestBody.content = { "application/json": json };
    responses["415"] ??= errorResponse(ERROR_MEANING["415"]!);
  }
  if (json || op.parameters?.length) responses["422"] ??= errorResponse(ERROR_MEANING["422"]!);
  if (op.security?.length) {
    responses["401"] ??= errorResponse(ERROR_MEANING["401"]!);
    responses["403"] ??= errorResponse(ERROR_MEANING["403"]!);
  }
  if (!Object.keys(responses).some((s) => s.startsWith("2"))) responses["200"] = { description: "Done" };
  return { ...op, responses, security: op.security ?? [] };
}

/** A WebSocket route: a `GET` that upgrades (101), refused with an error body before the upgrade. */
function webSocket(op: Operation): Operation {
  const { responses, ...rest } = complete(op);
  const { "200": _, ...errors } = responses ?? {};
  return {
    ...rest,
    "x-websocket": true,
    responses: { "101": { description: "Switching Protocols: the connection is now a WebSocket (frames in the description)" }, ...errors },
  };
}

/** Error responses that use the shared body point at the `ErrorBody` component instead of repeating it. */
function sharedErrors(responses: Record<string, Json>): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [status, response] of Object.entries(responses)) {
    const content = response.content as Record<string, { schema?: unknown }> | undefined;
    const schema = content?.["application/json"]?.schema;
    out[status] = schema && JSON.stringify(schema) === ERROR_SCHEMA ? errorResponse(ERROR_MEANING[status] ?? `Error ${status}`) : response;
  }
  return out;
}
