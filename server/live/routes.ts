import { type } from "arktype";
import { Elysia } from "elysia";
import { can, isScoped } from "../auth/permissions.ts";
import { declares, resolvePrincipal } from "../auth/plugin.ts";
import type { Services } from "../context.ts";
import { deviceInReach } from "../devices/reach.ts";
import { deviceIdsInReach } from "../devices/reach.store.ts";
import { Forbidden, Unauthorized } from "../errors.ts";
import { SIGNED_IN } from "../lib/schemas.ts";
import { LiveClientFrame, type LiveFrame } from "../protocol/live.ts";
import { newEnvelope } from "../protocol/envelope.ts";
import { LiveHub, type LiveSubscriber } from "./hub.ts";

/**
 * `/api/v1/live`: dashboards receive status changes, alerts and enrollments of their organization,
 * and the live telemetry of devices they `watch` (which switches those agents to 2 s sampling).
 */
export function liveRoutes(s: Pick<Services, "live" | "sql">) {
  const subs = new Map<string, LiveSubscriber & { watching: Set<string>; error(code: string, message: string): void }>();
  return new Elysia()
    .resolve(async ({ request }) => {
      const principal = await resolvePrincipal(s.sql, request.headers);
      if (!principal) throw new Unauthorized();
      if (!can(principal, "device:view")) throw new Forbidden("FORBIDDEN", "the live feed needs the device:view permission");
      return { principal };
    })
    .ws("/api/v1/live", {
      maxPayloadLength: 4096,
      idleTimeout: 120,
      detail: {
        summary: "Dashboard push (WebSocket): status changes, alerts, enrollments, live telemetry of watched devices",
        description:
          "Text frames carry JSON `{ v, id, type, data }` (server/protocol/live.ts). The server greets with `hello`, then sends " +
          "`device.status`, `device.telemetry`, `device.enrolled`, `command.updated`, `alert.created` and `alert.resolved`. " +
          'Send `{"v":1,"id":"…","type":"watch","data":{"deviceId":"…"}}` or `unwatch` for 2 s telemetry of a device ' +
          '(the flat `{"type":"watch","deviceId":"…"}` stays accepted).',
        tags: ["live"],
        security: SIGNED_IN,
        // sockets cannot take the auth macro: the resolve above asks `can` for the same permission
        ...declares("device:view"),
      },
      open(ws) {
        const send = (f: LiveFrame) => void ws.send(JSON.stringify(f));
        const sub = {
          organizationId: ws.data.principal.organizationId,
          watching: new Set<string>(),
          send,
          error: (code: string, message: string) => send({ ...newEnvelope(), type: "error", data: { code, message } }),
        };
        const { principal } = ws.data;
        if (isScoped(principal)) {
          // a user limited to clients or groups hears only about the devices they reach (none until
          // loaded; reloaded at most every 2 s while devices move or smart groups change)
          let reached = new Set<string>();
          let loading: Promise<void> | undefined;
          let again = false;
          const load = (): void => {
            if (loading) {
              again = true;
              return;
            }
            loading = deviceIdsInReach(s.sql, principal.organizationId, principal)
              .then((ids) => {
                reached = new Set(ids);
              })
              .catch(() => {})
              .then(() => Bun.sleep(2000))
              .finally(() => {
                loading = undefined;
                if (again) {
                  again = false;
                  load();
                }
              });
          };
          Object.assign(sub, { reaches: (deviceId: string) => reached.has(deviceId), refreshReach: load });
          load();
        }
        subs.set(ws.id, sub);
        s.live.subscribe(sub);
        send({ ...newEnvelope(), type: "hello", data: { organizationId: sub.organizationId } });
      },
      async message(ws, raw) {
        const sub = subs.get(ws.id);
        const frame = LiveClientFrame(raw);
        if (!sub) return;
        if (frame instanceof type.errors) {
          sub.error("BAD_FRAME", frame.summary);
          return;
        }
        const deviceId = "data" in frame ? frame.data.deviceId : frame.deviceId;
        if (frame.type === "unwatch") {
          if (sub.watching.delete(deviceId)) s.live.unwatch(sub, deviceId);
          return;
        }
        if (!(await deviceInReach(s.sql, ws.data.principal, deviceId))) {
          sub.error("DEVICE_NOT_FOUND", "no such device in your organization");
          return;
        }
        if (sub.watching.has(deviceId)) return;
        if (sub.watching.size >= LiveHub.MAX_WATCHES_PER_SOCKET) {
          sub.error("TOO_MANY_WATCHES", `watch at most ${LiveHub.MAX_WATCHES_PER_SOCKET} devices`);
          return;
        }
        sub.watching.add(deviceId);
        s.live.watch(sub, deviceId);
      },
      close(ws) {
        const sub = subs.get(ws.id);
        subs.delete(ws.id);
        if (sub) s.live.unsubscribe(sub);
      },
    });
}
