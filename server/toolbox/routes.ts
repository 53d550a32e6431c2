import { type } from "arktype";
import { Elysia } from "elysia";
import { principalActor } from "../audit/actor.ts";
import { authPlugin } from "../auth/plugin.ts";
import type { Principal } from "../auth/roles.ts";
import type { Services } from "../context.ts";
import { deviceInReach } from "../devices/reach.ts";
import { BadRequest, Conflict, NotFound } from "../errors.ts";
import { errors } from "../lib/schemas.ts";
import {
  EnvironmentList,
  EventLogList,
  KillResult,
  LogLevel,
  LogText,
  MAX_LOG_EVENTS,
  MAX_PID,
  ProcessList,
  ServiceAction,
  ServiceActionResult,
  ServiceList,
  ServiceName,
  Signal,
  WakeResult,
  WindowsLog,
} from "../protocol/toolbox.ts";
import { Toolbox } from "./service.ts";
import { wakeCandidates } from "./store.ts";
import { neighbours, wakeTargets } from "./wake.ts";

const DeviceParam = type({ id: "string.uuid" });
const PidParams = type({ id: "string.uuid", pid: type("string.integer.parse").pipe(type(`1 <= number <= ${MAX_PID}`)) });
const ServiceParams = type({ id: "string.uuid", name: ServiceName, action: ServiceAction });
const KillBody = type({
  "signal?": Signal.configure({ description: "signal to send (Linux and macOS; Windows terminates): TERM by default" }),
  "tree?": type("boolean").configure({ description: "also its children and their children (default false)" }),
});
const EventLogQuery = type({
  "level?": LogLevel.configure({ description: "least severe level shown (default error)" }),
  "since?": type("string.date.iso.parse").configure({ description: "events at or after this time" }),
  "until?": type("string.date.iso.parse").configure({ description: "events at or before this time" }),
  "q?": LogText,
  "unit?": ServiceName.configure({ description: "only this unit / service / syslog identifier" }),
  "log?": WindowsLog.configure({ description: "Windows: System (default) or Application" }),
  "limit?": type("string.integer.parse").pipe(type(`1 <= number <= ${MAX_LOG_EVENTS}`)),
});
const EnvironmentQuery = type({ "q?": "string <= 200" });
const offline = errors(404, 409, 422, 429, 503);

/**
 * The endpoint toolbox of a device: processes (list, kill), services (list, start/stop/restart/
 * enable/disable), event logs and environment variables, each asked of the connected agent at the
 * moment of the request (nothing is collected while nobody looks). Reading needs `device:view`,
 * acting `device:manage`; every action is audited with its actor.
 */
export function toolboxRoutes(s: Pick<Services, "sql" | "agents">) {
  const toolbox = new Toolbox(s.sql, s.agents);
  const reach = async (principal: Principal, id: string) => {
    if (!(await deviceInReach(s.sql, principal, id))) throw new NotFound("DEVICE_NOT_FOUND", "no such device in your organization");
  };
  const actionOf = (principal: Principal, deviceId: string, ip: string | null, action: string, details: Record<string, unknown>) => ({
    organizationId: principal.organizationId,
    deviceId,
    actor: principalActor(principal),
    ip,
    action,
    details,
  });

  return new Elysia({ prefix: "/api/v1/devices/:id" })
    .use(authPlugin(s.sql))
    .get(
      "/processes",
      async ({ params, principal }) => {
        await reach(principal, params.id);
        return toolbox.ask(params.id, { op: "processes" }, ProcessList);
      },
      {
        permission: "device:view",
        params: DeviceParam,
        response: { 200: ProcessList, ...offline },
        detail: { summary: "The device's processes now (CPU share since the previous list, resident memory)", tags: ["toolbox"] },
      },
    )
    .post(
      "/processes/:pid/kill",
      async ({ params, body, principal, server, request }) => {
        await reach(principal, params.id);
        const signal = body.signal ?? "TERM";
        const tree = body.tree ?? false;
        const ip = server?.requestIP(request)?.address ?? null;
        return toolbox.act(
          actionOf(principal, params.id, ip, "process.kill", { pid: params.pid, signal, tree }),
          { op: "kill", pid: params.pid, signal, tree },
          KillResult,
          (r) => ({ name: r.name, killed: r.killed.length }),
        );
      },
      {
        permission: "device:manage",
        params: PidParams,
        body: KillBody,
        response: { 200: KillResult, ...offline },
        detail: { summary: "Kill a process (optionally with its whole tree) with a chosen signal", tags: ["toolbox"] },
      },
    )
    .get(
      "/services",
      async ({ params, principal }) => {
        await reach(principal, params.id);
        return toolbox.ask(params.id, { op: "services" }, ServiceList);
      },
      {
        permission: "device:view",
        params: DeviceParam,
        response: { 200: ServiceList, ...offline },
        detail: { summary: "The device's services: systemd units, SysV init scripts, Windows services or launchd jobs", tags: ["toolbox"] },
      },
    )
    .post(
      "/services/:name/:action",
      async ({ params, principal, server, request }) => {
        await reach(principal, params.id);
        const ip = server?.requestIP(request)?.address ?? null;
        return toolbox.act(
          actionOf(principal, params.id, ip, `service.${params.action}`, { service: params.name }),
          { op: "service_action", name: params.name, action: params.action },
          ServiceActionResult,
          (r) => ({ state: r.service?.state ?? null, startup: r.service?.startup ?? null }),
        );
      },
      {
        permission: "device:manage",
        params: ServiceParams,
        response: { 200: ServiceActionResult, ...offline },
        detail: { summary: "Start, stop, restart, enable or disable a service; answers its state afterwards", tags: ["toolbox"] },
      },
    )
    .get(
      "/event-logs",
      async ({ params, query, principal }) => {
        await reach(principal, params.id);
        if (query.since && query.until && query.since > query.until) throw new BadRequest("INVALID_RANGE", "since must not be after until");
        return toolbox.ask(
          params.id,
          {
            op: "event_logs",
            level: query.level ?? "error",
            limit: query.limit ?? 100,
            ...(query.since ? { since: query.since.getTime() } : {}),
            ...(query.until ? { until: query.until.getTime() } : {}),
            ...(query.q ? { q: query.q } : {}),
            ...(query.unit ? { unit: query.unit } : {}),
            ...(query.log ? { log: query.log } : {}),
          },
          EventLogList,
        );
      },
      {
        permission: "device:view",
        params: DeviceParam,
        query: EventLogQuery,
        response: { 200: EventLogList, ...errors(400), ...offline },
        detail: {
          summary: "Events of the device's log (journal, Windows System/Application, macOS unified log), newest first",
          description: "`more` is true when older matching events exist: ask again with `until` set to the oldest time shown.",
          tags: ["toolbox"],
        },
      },
    )
    .post(
      "/wake",
      async ({ params, principal, server, request }) => {
        await reach(principal, params.id);
        const { target, online } = await wakeCandidates(s.sql, principal.organizationId, params.id);
        if (!target) throw new NotFound("DEVICE_NOT_FOUND", "no such device in your organization");
        if (target.status === "online") throw new Conflict("ALREADY_ONLINE", "the device is online");
        const { macs, subnets } = wakeTargets(target);
        if (macs.length === 0 || subnets.length === 0)
          throw new Conflict("NO_WAKE_ADDRESS", "the device never reported a MAC address with an IPv4 subnet");
        // a relay must be connected to this node and in one of the target's subnets; the first that answers wins
        const relays = neighbours(subnets, online).filter((n) => s.agents.get(n.device.id));
        if (relays.length === 0) throw new Conflict("NO_NEIGHBOUR", "no online device shares a subnet with this one");
        const ip = server?.requestIP(request)?.address ?? null;
        let last: unknown;
        for (const relay of relays.slice(0, 3)) {
          try {
            const r = await toolbox.act(
              {
                ...actionOf(principal, params.id, ip, "device.wake", {
                  relayDeviceId: relay.device.id,
                  relayHostname: relay.device.hostname,
                  macs,
                  broadcasts: relay.broadcasts,
                }),
                via: relay.device.id,
              },
              { op: "wake", macs, broadcasts: relay.broadcasts, port: 9 },
              WakeResult,
              (w) => ({ sent: w.sent }),
            );
            return {
              relayDeviceId: relay.device.id,
              relayHostname: relay.device.hostname,
              macs,
              broadcasts: relay.broadcasts,
              sent: r.sent,
            };
          } catch (err) {
            last = err;
          }
        }
        throw last;
      },
      {
        permission: "device:manage",
        params: DeviceParam,
        response: {
          200: type({ relayDeviceId: "string", relayHostname: "string", macs: "string[]", broadcasts: "string[]", sent: "number" }),
          ...offline,
        },
        detail: {
          summary: "Wake an offline device: an online device of the same subnet sends the magic packet to the subnet's broadcast address",
          tags: ["toolbox"],
        },
      },
    )
    .get(
      "/environment",
      async ({ params, query, principal }) => {
        await reach(principal, params.id);
        const env = await toolbox.ask(params.id, { op: "environment" }, EnvironmentList);
        const q = query.q?.trim().toLowerCase();
        return q ? { ...env, items: env.items.filter((v) => v.key.toLowerCase().includes(q) || v.value.toLowerCase().includes(q)) } : env;
      },
      {
        permission: "device:view",
        params: DeviceParam,
        query: EnvironmentQuery,
        response: { 200: EnvironmentList, ...offline },
        detail: {
          summary: "Environment variables of the device (system, per user on Windows, the agent's own); q searches keys and values",
          tags: ["toolbox"],
        },
      },
    );
}
