import { type } from "arktype";
import { Elysia } from "elysia";
import { resolvePrincipal } from "../auth/plugin.ts";
import type { Services } from "../context.ts";
import { deviceOrganization } from "../devices/store.ts";
import { Unauthorized } from "../errors.ts";
import { SIGNED_IN } from "../lib/schemas.ts";
import { type LiveEvent, LiveHub, type LiveSubscriber } from "./hub.ts";

const ClientFrame = type({
  type: "'watch' | 'unwatch'",
  deviceId: "string.uuid",
});

/**
 * `/api/v1/live`: dashboards receive status changes, alerts and enrollments of their organization,
 * and the live telemetry of devices they `watch` (which switches those agents to 2 s sampling).
 */
export function liveRoutes(s: Pick<Services, "live" | "sql">) {
  const subs = new Map<
    string,
    LiveSubscriber & {
      watching: Set<string>;
      reply(e: Record<string, unknown>): void;
    }
  >();
  return new Elysia()
    .resolve(async ({ request }) => {
      const principal = await resolvePrincipal(s.sql, request.headers);
      if (!principal) throw new Unauthorized();
      return { principal };
    })
    .ws("/api/v1/live", {
      maxPayloadLength: 4096,
      idleTimeout: 120,
      detail: {
        summary: "Dashboard push (WebSocket): status changes, alerts, enrollments, live telemetry of watched devices",
        description:
          'Text frames carry JSON. The server greets with `{"type":"hello"}`, then sends events with a `type` ' +
          '(`device.status`, `alert.firing`, `telemetry` …). Send `{"type":"watch","deviceId":"…"}` or `unwatch` for 2 s telemetry of a device.',
        tags: ["live"],
        security: SIGNED_IN,
      },
      open(ws) {
        const sub = {
          organizationId: ws.data.principal.organizationId,
          watching: new Set<string>(),
          send: (e: LiveEvent) => void ws.send(JSON.stringify(e)),
          reply: (e: Record<string, unknown>) => void ws.send(JSON.stringify(e)),
        };
        subs.set(ws.id, sub);
        s.live.subscribe(sub);
        sub.reply({ type: "hello", organizationId: sub.organizationId });
      },
      async message(ws, raw) {
        const sub = subs.get(ws.id);
        const frame = ClientFrame(raw);
        if (!sub) return;
        if (frame instanceof type.errors) {
          sub.reply({
            type: "error",
            code: "BAD_FRAME",
            message: frame.summary,
          });
          return;
        }
        if (frame.type === "unwatch") {
          if (sub.watching.delete(frame.deviceId)) s.live.unwatch(sub, frame.deviceId);
          return;
        }
        const device = await deviceOrganization(s.sql, frame.deviceId);
        if (!device || device.organizationId !== sub.organizationId) {
          sub.reply({
            type: "error",
            code: "DEVICE_NOT_FOUND",
            message: "no such device in your organization",
          });
          return;
        }
        if (sub.watching.has(frame.deviceId)) return;
        if (sub.watching.size >= LiveHub.MAX_WATCHES_PER_SOCKET) {
          sub.reply({
            type: "error",
            code: "TOO_MANY_WATCHES",
            message: `watch at most ${LiveHub.MAX_WATCHES_PER_SOCKET} devices`,
          });
          return;
        }
        sub.watching.add(frame.deviceId);
        s.live.watch(sub, frame.deviceId);
      },
      close(ws) {
        const sub = subs.get(ws.id);
        subs.delete(ws.id);
        if (sub) s.live.unsubscribe(sub);
      },
    });
}
