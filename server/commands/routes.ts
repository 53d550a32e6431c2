import { type } from "arktype";
import { Elysia } from "elysia";
import { principalActor } from "../audit/actor.ts";
import { authPlugin } from "../auth/plugin.ts";
import { can, isScoped, type Permission } from "../auth/permissions.ts";
import type { Principal } from "../auth/roles.ts";
import type { Services } from "../context.ts";
import { deviceInReach } from "../devices/reach.ts";
import { bulkDevices } from "../devices/bulk.ts";
import { BadRequest, Forbidden, NotFound } from "../errors.ts";
import { pageLimit } from "../http.ts";
import { scriptSpec } from "../library/spec.ts";
import { getScript } from "../library/store.ts";
import { ActorRef, IdParam, Timestamp, errors, listOf, pageOf } from "../lib/schemas.ts";
import { CommandSpec, ScriptLanguage } from "../protocol/frames.ts";
import { CommandStatus } from "../protocol/statuses.ts";
import type { CommandDispatcher } from "./service.ts";
import { getCommand, listDeviceCommands, listScriptRuns } from "./store.ts";

/** Environment variables of a script: at most 64, names of letters, digits and `_` not starting with a digit. */
const MAX_ENV = 64;
const Env = type({ "+": "reject", "[/^[A-Za-z_][A-Za-z0-9_]{0,127}$/]": "string <= 4096" })
  .narrow(
    (env, ctx) =>
      Object.keys(env).length <= MAX_ENV ||
      ctx.reject({ expected: `at most ${MAX_ENV} environment variables`, actual: `${Object.keys(env).length}` }),
  )
  .configure({ description: `environment variables (at most ${MAX_ENV}; names match ^[A-Za-z_][A-Za-z0-9_]{0,127}$)` });
const Power = type({ "delaySeconds?": "0 <= number.integer <= 86400", "message?": "string <= 200" });
const scriptOverrides = {
  "args?": "(string <= 1024)[] <= 64",
  "env?": Env,
  "timeoutSeconds?": "1 <= number.integer <= 86400",
} as const;
/** A library script by id (its arguments and timeout may be overridden), or an inline script. */
const RunScript = type({ scriptId: "string.uuid", ...scriptOverrides }).or({
  language: ScriptLanguage,
  content: "0 < string <= 262144",
  ...scriptOverrides,
});
const expiry = { "expiresInMinutes?": "1 <= number.integer <= 43200" } as const;
/** What to run, by `type`: a power action (payload optional) or a script. */
const NewCommand = type({ type: "'reboot' | 'shutdown'", "payload?": Power, ...expiry }).or({
  type: "'run_script'",
  payload: RunScript,
  ...expiry,
});
type NewCommand = typeof NewCommand.infer;
const Command = type({
  id: "string",
  deviceId: "string",
  type: "string",
  payload: CommandSpec,
  status: CommandStatus,
  exitCode: "number | null",
  stdout: "string",
  stderr: "string",
  stdoutTruncated: "boolean",
  stderrTruncated: "boolean",
  scriptId: "string | null",
  checkRuleId: "string | null",
  requestedBy: "string | null",
  actor: ActorRef.or("null"),
  createdAt: Timestamp,
  expiresAt: Timestamp,
  sentAt: Timestamp.or("null"),
  startedAt: Timestamp.or("null"),
  finishedAt: Timestamp.or("null"),
});
const PageQuery = type({ "limit?": type("string.integer.parse").pipe(type("1 <= number <= 500")), "cursor?": "string <= 200" });

/** Commands: queue one for a device (pushed at once when it is connected), read one, list a device's. */
export function commandRoutes(s: Pick<Services, "sql">, dispatcher: CommandDispatcher) {
  /** Power actions need `device:manage`, scripts `device:script`. */
  function mayRun(principal: Principal, kind: string): void {
    const needed: Permission = kind === "run_script" ? "device:script" : "device:manage";
    if (!can(principal, needed)) throw new Forbidden("FORBIDDEN", `this needs the ${needed} permission`);
  }

  /** The command a validated body asks for (a library script's current content, or 404 for another organization's). */
  async function specFor(organizationId: string, body: NewCommand): Promise<{ spec: CommandSpec; scriptId: string | null }> {
    if (body.type === "run_script")
      return {
        spec: await scriptSpec(s.sql, organizationId, body.payload),
        scriptId: "scriptId" in body.payload ? body.payload.scriptId : null,
      };
    const p = body.payload ?? {};
    return { spec: { kind: body.type, delaySeconds: p.delaySeconds ?? 0, ...(p.message ? { message: p.message } : {}) }, scriptId: null };
  }

  return new Elysia({ prefix: "/api/v1" })
    .use(authPlugin(s.sql))
    .post(
      "/devices/:id/commands",
      async ({ params, body, principal, set, server, request }) => {
        if (!(await deviceInReach(s.sql, principal, params.id)))
          throw new NotFound("DEVICE_NOT_FOUND", "no such device in your organization");
        mayRun(principal, body.type);
        const { spec, scriptId } = await specFor(principal.organizationId, body);
        const [row] = await dispatcher.enqueue({
          organizationId: principal.organizationId,
          deviceIds: [params.id],
          spec,
          scriptId,
          actor: principalActor(principal),
          expiresInMs: (body.expiresInMinutes ?? 7 * 24 * 60) * 60_000,
          ip: server?.requestIP(request)?.address ?? null,
        });
        if (!row) throw new Error("no command was queued");
        set.status = 202;
        return { id: row.id, status: (await getCommand(s.sql, principal.organizationId, row.id))?.status ?? row.status };
      },
      {
        permission: ["device:manage", "device:script"],
        params: IdParam,
        body: NewCommand,
        response: { 202: type({ id: "string", status: Command.get("status") }), ...errors(404, 422) },
        detail: { summary: "Queue a command (reboot, shutdown, run_script) for a device", tags: ["commands"] },
      },
    )
    .post(
      "/commands",
      async ({ body, principal, set, server, request }) => {
        mayRun(principal, body.type);
        const { spec, scriptId } = await specFor(principal.organizationId, body);
        const ids = await bulkDevices(s.sql, principal, "groupId" in body ? { groupId: body.groupId } : { deviceIds: body.deviceIds });
        const rows = await dispatcher.enqueue({
          organizationId: principal.organizationId,
          deviceIds: ids,
          spec,
          scriptId,
          actor: principalActor(principal),
          expiresInMs: (body.expiresInMinutes ?? 7 * 24 * 60) * 60_000,
          ip: server?.requestIP(request)?.address ?? null,
        });
        const items = rows.map((r) => ({ deviceId: r.deviceId, id: r.id }));
        set.status = 202;
        return { items };
      },
      {
        permission: ["device:manage", "device:script"],
        body: NewCommand.and(type({ deviceIds: "string.uuid[] <= 1000" }).or({ groupId: "string.uuid" })),
        response: { 202: listOf(type({ deviceId: "string", id: "string" })), ...errors(404, 422) },
        detail: {
          summary: "Queue the same command for many devices at once: listed, or a smart group's members now (per-device results)",
          tags: ["commands"],
        },
      },
    )
    .get(
      "/scripts/:id/runs",
      async ({ params, query, principal }) => {
        if (!(await getScript(s.sql, principal.organizationId, params.id)))
          throw new NotFound("SCRIPT_NOT_FOUND", "no such script in your organization");
        return {
          items: await listScriptRuns(s.sql, principal.organizationId, params.id, pageLimit(query.limit, 100), principal),
        };
      },
      {
        permission: "device:view",
        params: IdParam,
        query: PageQuery,
        response: { 200: listOf(Command.and({ hostname: "string | null" })), ...errors(404, 422) },
        detail: { summary: "Runs of a library script across devices, newest first", tags: ["scripts"] },
      },
    )
    .get(
      "/commands/:id",
      async ({ params, principal }) => {
        const row = await getCommand(s.sql, principal.organizationId, params.id);
        if (!row || (isScoped(principal) && !(await deviceInReach(s.sql, principal, row.deviceId))))
          throw new NotFound("COMMAND_NOT_FOUND", "no such command in your organization");
        return row;
      },
      {
        permission: "device:view",
        params: IdParam,
        response: { 200: Command, ...errors(404, 422) },
        detail: { summary: "A command with its output and exit code", tags: ["commands"] },
      },
    )
    .get(
      "/devices/:id/commands",
      async ({ params, query, principal }) => {
        if (!(await deviceInReach(s.sql, principal, params.id)))
          throw new NotFound("DEVICE_NOT_FOUND", "no such device in your organization");
        const limit = pageLimit(query.limit);
        let before: { createdAt: string; id: string } | undefined;
        if (query.cursor) {
          const [createdAt, id] = Buffer.from(query.cursor, "base64url").toString("utf8").split("|");
          if (!createdAt || !id || Number.isNaN(Date.parse(createdAt)) || !/^[0-9a-f-]{36}$/i.test(id))
            throw new BadRequest("INVALID_CURSOR", "cursor is not one this server issued");
          before = { createdAt, id };
        }
        const { items, total } = await listDeviceCommands(s.sql, principal.organizationId, params.id, { limit, before });
        const last = items.at(-1);
        return {
          items,
          total,
          nextCursor:
            items.length === limit && last ? Buffer.from(`${last.createdAt.toISOString()}|${last.id}`).toString("base64url") : null,
        };
      },
      {
        permission: "device:view",
        params: IdParam,
        query: PageQuery,
        response: { 200: pageOf(Command), ...errors(400, 404, 422) },
        detail: { summary: "A device's commands, newest first", tags: ["commands"] },
      },
    );
}
