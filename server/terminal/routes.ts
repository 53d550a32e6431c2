import { type } from "arktype";
import { Elysia } from "elysia";
import { authPlugin, declares, resolvePrincipal } from "../auth/plugin.ts";
import { can, isScoped } from "../auth/permissions.ts";
import type { Services } from "../context.ts";
import { deviceInReach } from "../devices/reach.ts";
import { Forbidden, NotFound, Unauthorized } from "../errors.ts";
import { IdParam, SIGNED_IN, Timestamp, errors, listOf } from "../lib/schemas.ts";
import { MAX_TERMINAL_CHUNK } from "../protocol/frames.ts";
import { TerminalClientFrame, terminalFrame } from "../protocol/terminal.ts";
import type { TerminalHub } from "./sessions.ts";
import { getRecording, listSessions } from "./store.ts";

const OpenQuery = type({
  "cols?": type("string.integer.parse").pipe(type("1 <= number <= 1000")),
  "rows?": type("string.integer.parse").pipe(type("1 <= number <= 500")),
});

const Session = type({
  id: "string",
  deviceId: "string",
  userId: "string | null",
  userEmail: "string | null",
  startedAt: Timestamp,
  endedAt: Timestamp.or("null"),
  endReason: "string | null",
  cols: "number",
  rows: "number",
  recordingTruncated: "boolean",
});

/**
 * `/api/v1/devices/:id/terminal`: a shell on the device for a technician of its organization
 * (checked before the upgrade), plus the recorded sessions and their asciicast recordings.
 */
export function terminalRoutes(s: Pick<Services, "sql">, hub: TerminalHub) {
  const sessionOf = new Map<string, string>();
  return new Elysia()
    .use(authPlugin(s.sql))
    .get(
      "/api/v1/terminal-sessions",
      async ({ query, principal }) => ({
        items: await listSessions(s.sql, principal.organizationId, query.deviceId, 200, principal),
      }),
      {
        permission: "device:terminal",
        query: type({ "deviceId?": "string.uuid" }),
        response: { 200: listOf(Session), ...errors(422) },
        detail: { summary: "Recorded terminal sessions, newest first", tags: ["terminal"] },
      },
    )
    .get(
      "/api/v1/terminal-sessions/:id/recording",
      async ({ params, principal, set }) => {
        const rec = await getRecording(s.sql, principal.organizationId, params.id);
        if (rec === undefined || (isScoped(principal) && !(await deviceInReach(s.sql, principal, rec.deviceId))))
          throw new NotFound("SESSION_NOT_FOUND", "no such terminal session in your organization");
        set.headers["content-type"] = "application/x-asciicast";
        return rec.recording;
      },
      {
        permission: "device:terminal",
        params: IdParam,
        response: { 200: type("string"), ...errors(404, 422) },
        detail: { summary: "A session's recording (asciicast v2)", tags: ["terminal"] },
      },
    )
    .guard({ params: type({ id: "string.uuid" }), query: OpenQuery })
    .resolve(async ({ request, params }) => {
      const principal = await resolvePrincipal(s.sql, request.headers);
      if (!principal) throw new Unauthorized();
      if (!can(principal, "device:terminal")) throw new Forbidden("FORBIDDEN", "a terminal needs the device:terminal permission");
      if (!(await deviceInReach(s.sql, principal, params.id)))
        throw new NotFound("DEVICE_NOT_FOUND", "no such device in your organization");
      return { principal };
    })
    .ws("/api/v1/devices/:id/terminal", {
      maxPayloadLength: MAX_TERMINAL_CHUNK * 2,
      idleTimeout: 120,
      detail: {
        summary: "A shell on the device (WebSocket; needs the device:terminal permission)",
        description:
          'Text frames carry JSON. Send `{"type":"input","data":"ls\\r"}`, `{"type":"resize","cols":120,"rows":40}` or ' +
          '`{"type":"close"}`; receive `{"type":"output","data":"…"}`, `{"type":"exit","code":0}` and `{"type":"error","message":"…"}`. ' +
          "Server frames also carry the envelope's `v` and `id`, optional on the frames sent (server/protocol/terminal.ts). " +
          "Refused before the upgrade with 401, 403 or 404 (`DEVICE_NOT_FOUND`).",
        tags: ["terminal"],
        security: SIGNED_IN,
        // sockets cannot take the auth macro: the resolve above asks `can` for the same permission
        ...declares("device:terminal"),
      },
      open(ws) {
        const { principal, params, query } = ws.data;
        const id = hub.open({
          organizationId: principal.organizationId,
          deviceId: params.id,
          userId: principal.kind === "user" ? principal.id : null,
          cols: query.cols ?? 80,
          rows: query.rows ?? 24,
          send: (f) => void ws.send(JSON.stringify(terminalFrame(f))),
          close: () => ws.close(1000, "terminal closed"),
        });
        if (id) sessionOf.set(ws.id, id);
      },
      message(ws, raw) {
        const id = sessionOf.get(ws.id);
        const frame = TerminalClientFrame(typeof raw === "string" ? safeJson(raw) : raw);
        if (frame instanceof type.errors) {
          ws.send(JSON.stringify(terminalFrame({ type: "error", message: `bad frame: ${frame.summary.slice(0, 300)}` })));
          return;
        }
        if (!id) return;
        if (frame.type === "input") hub.input(id, frame.data);
        else if (frame.type === "resize") hub.resize(id, frame.cols, frame.rows);
        else hub.browserClosed(id);
      },
      close(ws) {
        const id = sessionOf.get(ws.id);
        sessionOf.delete(ws.id);
        if (id) hub.browserClosed(id);
      },
    });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
