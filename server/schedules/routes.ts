import { type } from "arktype";
import { Elysia } from "elysia";
import { writeAudit } from "../audit/store.ts";
import { authPlugin } from "../auth/plugin.ts";
import { actorOf } from "../auth/roles.ts";
import type { Services } from "../context.ts";
import { BadRequest, NotFound, ValidationFailed } from "../errors.ts";
import { scriptSpec } from "../library/spec.ts";
import { getWorkflow } from "../automation/store.ts";
import { getGroup } from "../groups/store.ts";
import { getPolicy } from "../policies/store.ts";
import { CommandSpec, ScriptLanguage } from "../protocol/frames.ts";
import { IdParam, Ok, Timestamp, errors, listOf } from "../lib/schemas.ts";
import { nextOccurrence } from "./scheduler.ts";
import { deleteSchedule, getSchedule, insertSchedule, listRuns, listSchedules, setEnabled } from "./store.ts";

const NewSchedule = type({
  name: "0 < string <= 200",
  "cron?": "0 < string <= 120",
  "runAt?": "string.date.iso.parse",
  "timezone?": "0 < string <= 64",
  target: type({ deviceIds: "string.uuid[] <= 1000" })
    .or({ siteId: "string.uuid" })
    .or({ tag: "0 < string <= 128" })
    .or({ groupId: "string.uuid" })
    .or({ policyId: "string.uuid" }),
  "scriptId?": "string.uuid",
  /** Instead of a script: a workflow whose trigger is "schedule", run once per device. */
  "workflowId?": "string.uuid",
  /** Instead of a script: wake the devices (Wake-on-LAN through a neighbour of each), e.g. before a patch window. */
  "wake?": "true",
  "language?": ScriptLanguage,
  "content?": "0 < string <= 262144",
  "args?": "(string <= 1024)[] <= 64",
  "timeoutSeconds?": "1 <= number.integer <= 86400",
});
const Schedule = type({
  id: "string",
  organizationId: "string",
  name: "string",
  cron: "string | null",
  runAt: Timestamp.or("null"),
  timezone: "string",
  target: NewSchedule.get("target"),
  spec: CommandSpec.or("null"),
  scriptId: "string | null",
  workflowId: "string | null",
  wake: "boolean",
  enabled: "boolean",
  nextRunAt: Timestamp.or("null"),
  lastRunAt: Timestamp.or("null"),
  createdAt: Timestamp,
});
const Run = type({ id: "string", dueAt: Timestamp, startedAt: Timestamp, deviceCount: "number", commandIds: "string[]" });

/** Scheduled scripts: cron expressions (seconds optional) or a one-off time, time-zone aware. */
export function scheduleRoutes(s: Pick<Services, "sql">) {
  return new Elysia({ prefix: "/api/v1/schedules" })
    .use(authPlugin(s.sql))
    .get("/", async ({ principal }) => ({ items: await listSchedules(s.sql, principal.organizationId) }), {
      permission: "device:view",
      response: { 200: listOf(Schedule) },
      detail: { summary: "Scheduled scripts", tags: ["automation"] },
    })
    .post(
      "/",
      async ({ body, principal, set }) => {
        if (Boolean(body.cron) === Boolean(body.runAt)) throw new ValidationFailed("give either cron or runAt");
        const timezone = body.timezone ?? "UTC";
        let nextRunAt: Date | null;
        try {
          nextRunAt = body.cron ? nextOccurrence(body.cron, timezone, new Date()) : (body.runAt ?? null);
        } catch (err) {
          throw new BadRequest("INVALID_SCHEDULE", `cron or time zone not understood: ${err instanceof Error ? err.message : String(err)}`);
        }
        if ("groupId" in body.target && !(await getGroup(s.sql, principal.organizationId, body.target.groupId)))
          throw new NotFound("GROUP_NOT_FOUND", "no such group in your organization");
        if ("policyId" in body.target && !(await getPolicy(s.sql, principal.organizationId, body.target.policyId)))
          throw new NotFound("POLICY_NOT_FOUND", "no such policy in your organization");
        let spec: CommandSpec | null = null;
        if (body.wake) {
          if (body.workflowId || body.scriptId || body.content) throw new ValidationFailed("a wake schedule runs no script or workflow");
        } else if (body.workflowId) {
          if (body.scriptId || body.content) throw new ValidationFailed("give a workflow or a script, not both");
          const wf = await getWorkflow(s.sql, principal.organizationId, body.workflowId);
          if (!wf) throw new NotFound("WORKFLOW_NOT_FOUND", "no such workflow in your organization");
          if (wf.trigger.event !== "schedule") throw new ValidationFailed('the workflow\'s trigger must be "schedule"');
        } else spec = await scriptSpec(s.sql, principal.organizationId, body);
        const scriptId = body.scriptId ?? null;
        const row = await insertSchedule(s.sql, {
          organizationId: principal.organizationId,
          name: body.name,
          cron: body.cron ?? null,
          runAt: body.runAt ?? null,
          timezone,
          target: body.target,
          spec,
          scriptId,
          workflowId: body.workflowId ?? null,
          wake: body.wake ?? false,
          nextRunAt,
          createdBy: principal.kind === "user" ? principal.id : null,
        });
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "schedule.created",
          targetType: "schedule",
          targetId: row.id,
          details: { name: row.name, cron: row.cron },
        });
        set.status = 201;
        return row;
      },
      {
        permission: "schedule:manage",
        body: NewSchedule,
        response: { 201: Schedule, ...errors(400, 404, 422) },
        detail: { summary: "Schedule a script", tags: ["automation"] },
      },
    )
    .post(
      "/:id/:action",
      async ({ params, principal }) => {
        const sch = await getSchedule(s.sql, principal.organizationId, params.id);
        if (!sch) throw new NotFound("SCHEDULE_NOT_FOUND", "no such schedule in your organization");
        const enable = params.action === "enable";
        const next = enable ? (sch.cron ? nextOccurrence(sch.cron, sch.timezone, new Date()) : sch.runAt) : null;
        const row = await setEnabled(s.sql, principal.organizationId, params.id, enable, next);
        if (!row) throw new NotFound("SCHEDULE_NOT_FOUND", "no such schedule in your organization");
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: `schedule.${params.action}d`,
          targetType: "schedule",
          targetId: params.id,
        });
        return row;
      },
      {
        permission: "schedule:manage",
        params: type({ id: "string.uuid", action: "'enable' | 'disable'" }),
        response: { 200: Schedule, ...errors(404, 422) },
        detail: { summary: "Enable or disable a schedule", tags: ["automation"] },
      },
    )
    .delete(
      "/:id",
      async ({ params, principal }) => {
        if (!(await deleteSchedule(s.sql, principal.organizationId, params.id)))
          throw new NotFound("SCHEDULE_NOT_FOUND", "no such schedule in your organization");
        await writeAudit(s.sql, { ...actorOf(principal), action: "schedule.deleted", targetType: "schedule", targetId: params.id });
        return { ok: true };
      },
      {
        permission: "schedule:manage",
        params: IdParam,
        response: { 200: Ok, ...errors(404, 422) },
        detail: { summary: "Delete a schedule", tags: ["automation"] },
      },
    )
    .get(
      "/:id/runs",
      async ({ params, principal }) => {
        if (!(await getSchedule(s.sql, principal.organizationId, params.id)))
          throw new NotFound("SCHEDULE_NOT_FOUND", "no such schedule in your organization");
        return { items: await listRuns(s.sql, principal.organizationId, params.id) };
      },
      {
        permission: "device:view",
        params: IdParam,
        response: { 200: listOf(Run), ...errors(404, 422) },
        detail: { summary: "A schedule's runs, newest first", tags: ["automation"] },
      },
    );
}
