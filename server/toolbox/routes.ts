import { type } from "arktype";
import { Elysia } from "elysia";
import { principalActor } from "../audit/actor.ts";
import { authPlugin } from "../auth/plugin.ts";
import type { Principal } from "../auth/roles.ts";
import type { Services } from "../context.ts";
import { deviceInReach } from "../devices/reach.ts";
import { reaches } from "../auth/permissions.ts";
import { bulkDevices } from "../devices/bulk.ts";
import { AppError, BadRequest, NotFound } from "../errors.ts";
import { Timestamp, errors } from "../lib/schemas.ts";
import {
  EnvironmentList,
  EventLogList,
  HealthReport,
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
  WindowsLog,
} from "../protocol/toolbox.ts";
import { Toolbox } from "./service.ts";
import { wakeThroughNeighbour } from "./wake-device.ts";
import { recordHealth } from "./health-watch.ts";
import { healthHistory, listWakes, siteDevices } from "./store.ts";

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
const ReadingKind = type(
  "'temperature' | 'fan' | 'voltage' | 'disk_temperature' | 'reallocated_sectors' | 'pending_sectors' | 'disk_wear' | 'battery_charge' | 'battery_health' | 'antivirus_definitions_age_days'",
);
const HistoryQuery = type({
  kind: ReadingKind.configure({ description: "what was measured" }),
  "days?": type("string.integer.parse")
    .pipe(type("1 <= number <= 90"))
    .configure({ description: "how far back, days (default 7, at most 90: readings are kept 90 days)" }),
});
const HealthHistory = type({
  kind: ReadingKind,
  items: type({
    subject: "string",
    min: "number",
    max: "number",
    latest: "number",
    latestAt: Timestamp,
    count: "number",
    /** [epoch ms, value], oldest first. */
    points: type(["number", "number"]).array(),
  }).array(),
});
/** Most devices one bulk wake reaches, and how many are woken at once. */
const MAX_WAKE = 1000;
const WAKE_CONCURRENCY = 16;
const WakeTarget = type({ deviceIds: `0 < string.uuid[] <= ${MAX_WAKE}` })
  .or({ groupId: "string.uuid" })
  .or({ siteId: "string.uuid" });
const WakeRecord = type({
  id: "string",
  relayDeviceId: "string | null",
  relayHostname: "string | null",
  actorName: "string | null",
  macs: "string[]",
  broadcasts: "string[]",
  outcome: "string",
  requestedAt: Timestamp,
  onlineAt: Timestamp.or("null"),
});
const WakeSent = type({ relayDeviceId: "string", relayHostname: "string", macs: "string[]", broadcasts: "string[]", sent: "number" });
const WakeOutcome = type({ deviceId: "string", ok: "true", relayDeviceId: "string", sent: "number" }).or({
  deviceId: "string",
  ok: "false",
  code: "string",
});
const offline = errors(404, 409, 422, 429, 503);

/**
 * The endpoint toolbox of a device: processes (list, kill), services (list, start/stop/restart/
 * enable/disable), event logs and environment variables, each asked of the connected agent at the
 * moment of the request (nothing is collected while nobody looks). Reading needs `device:view`,
 * acting `device:manage`; every action is audited with its actor.
 */
export function toolboxRoutes(s: Pick<Services, "sql" | "agents" | "rules">) {
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

  const wakeDevice = (principal: Principal, deviceId: string, ip: string | null) =>
    wakeThroughNeighbour({ sql: s.sql, agents: s.agents, toolbox }, principal.organizationId, principalActor(principal), deviceId, ip);

  const bulk = new Elysia({ prefix: "/api/v1" }).use(authPlugin(s.sql)).post(
    "/wake",
    async ({ body, principal, server, request }) => {
      let ids: string[];
      if ("siteId" in body) {
        const site = await siteDevices(s.sql, principal.organizationId, body.siteId, MAX_WAKE);
        if (!site || !reaches(principal, site.clientId)) throw new NotFound("SITE_NOT_FOUND", "no such site in your organization");
        ids = site.ids;
      } else ids = await bulkDevices(s.sql, principal, body);
      const ip = server?.requestIP(request)?.address ?? null;
      const items: (typeof WakeOutcome.infer)[] = [];
      // a few at a time: each is one call to a relay with a 10 s deadline
      for (let i = 0; i < Math.min(ids.length, MAX_WAKE); i += WAKE_CONCURRENCY) {
        const batch = ids.slice(i, i + WAKE_CONCURRENCY);
        const done = await Promise.all(
          batch.map(async (deviceId) => {
            try {
              const r = await wakeDevice(principal, deviceId, ip);
              return { deviceId, ok: true as const, relayDeviceId: r.relayDeviceId, sent: r.sent };
            } catch (err) {
              if (err instanceof AppError) return { deviceId, ok: false as const, code: err.code };
              throw err;
            }
          }),
        );
        items.push(...done);
      }
      return { items };
    },
    {
      permission: "device:manage",
      body: WakeTarget,
      response: { 200: type({ items: WakeOutcome.array() }), ...errors(404, 422) },
      detail: {
        summary: "Wake many devices (listed, a smart group's members, or a site's): each through a neighbour of its subnet",
        description: "Online devices are skipped (`ALREADY_ONLINE`); each device's outcome is listed, and each wake sent is audited.",
        tags: ["toolbox"],
      },
    },
  );

  const perDevice = new Elysia({ prefix: "/api/v1/devices/:id" })
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
        return wakeDevice(principal, params.id, server?.requestIP(request)?.address ?? null);
      },
      {
        permission: "device:manage",
        params: DeviceParam,
        response: { 200: WakeSent, ...offline },
        detail: {
          summary: "Wake an offline device: an online device of the same subnet sends the magic packet to the subnet's broadcast address",
          tags: ["toolbox"],
        },
      },
    )
    .get(
      "/health",
      async ({ params, principal }) => {
        await reach(principal, params.id);
        const report = await toolbox.ask(params.id, { op: "health" }, HealthReport);
        // read on demand: kept in the history, and the health alert rules see it as well
        const at = Date.now();
        await recordHealth(s.sql, params.id, at, report);
        s.rules.submitHealth({ organizationId: principal.organizationId, deviceId: params.id, at, health: report });
        return report;
      },
      {
        permission: "device:view",
        params: DeviceParam,
        response: { 200: HealthReport, ...offline },
        detail: {
          summary:
            "Hardware health now: temperatures, fans and voltages, S.M.A.R.T. of each disk, batteries, and notes on what could not be read",
          tags: ["toolbox"],
        },
      },
    )
    .get(
      "/health/history",
      async ({ params, query, principal }) => {
        await reach(principal, params.id);
        const since = new Date(Date.now() - (query.days ?? 7) * 86_400_000);
        return { kind: query.kind, items: await healthHistory(s.sql, params.id, query.kind, since) };
      },
      {
        permission: "device:view",
        params: DeviceParam,
        query: HistoryQuery,
        response: { 200: HealthHistory, ...errors(404, 422) },
        detail: {
          summary:
            "Health readings kept over time (every 15 minutes while a health alert rule watches the device, and each read asked for): per sensor, disk, battery or antivirus product, min, max, latest and the points",
          tags: ["toolbox"],
        },
      },
    )
    .get(
      "/wakes",
      async ({ params, principal }) => {
        await reach(principal, params.id);
        return { items: await listWakes(s.sql, principal.organizationId, params.id, 50) };
      },
      {
        permission: "device:view",
        params: DeviceParam,
        response: { 200: type({ items: WakeRecord.array() }), ...errors(404, 422) },
        detail: {
          summary: "The device's last 50 wake requests: who, through which device, the outcome, and when it came online",
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
  return new Elysia().use(bulk).use(perDevice);
}
