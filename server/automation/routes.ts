import { type } from "arktype";
import { Elysia } from "elysia";
import { writeAudit } from "../audit/store.ts";
import { authPlugin } from "../auth/plugin.ts";
import { actorOf } from "../auth/roles.ts";
import type { Services } from "../context.ts";
import { NotFound } from "../errors.ts";
import { ScriptLanguage } from "../protocol/frames.ts";
import { IdParam, Ok, Timestamp, errors, listOf } from "../lib/schemas.ts";
import { SERVICE_NAME } from "./restart-service.ts";
import { WORKFLOW_TEMPLATES } from "./service.ts";
import { deleteWorkflow, getWorkflow, insertWorkflow, listRuns, listWorkflows } from "./store.ts";

const Workflow = type({
  name: "0 < string <= 200",
  trigger: {
    event: "'alert.firing' | 'alert.resolved' | 'device.offline' | 'device.online' | 'schedule'",
    "alertType?": "0 < string <= 64",
  },
  actions: type({
    type: "'run_script'",
    "scriptId?": "string.uuid",
    "language?": ScriptLanguage,
    "content?": "0 < string <= 262144",
    "args?": "(string <= 1024)[] <= 64",
    "timeoutSeconds?": "1 <= number.integer <= 86400",
  })
    .or({ type: "'restart_service'", service: SERVICE_NAME })
    .or({ type: "'notify'", channelIds: "string.uuid[] <= 20" })
    .or({ type: "'add_note'", text: "0 < string <= 2000" })
    .array()
    .moreThanLength(0)
    .atMostLength(10),
});
const WorkflowRow = type({
  id: "string",
  organizationId: "string",
  name: "string",
  trigger: Workflow.get("trigger"),
  actions: Workflow.get("actions"),
  enabled: "boolean",
  createdAt: Timestamp,
});
const Run = type({
  id: "string",
  deviceId: "string | null",
  event: "string",
  alertId: "string | null",
  startedAt: Timestamp,
  results: type({ action: "string", ok: "boolean", "commandId?": "string", "error?": "string", "skipped?": "string" }).array(),
});

/** Automation workflows, their run history, and the shipped self-healing templates. */
export function automationRoutes(s: Pick<Services, "sql">) {
  return new Elysia({ prefix: "/api/v1" })
    .use(authPlugin(s.sql))
    .get("/workflow-templates", () => ({ items: WORKFLOW_TEMPLATES.map((t) => Workflow.assert(t)) }), {
      permission: "device:view",
      response: { 200: listOf(Workflow) },
      detail: { summary: "Self-healing templates", tags: ["automation"] },
    })
    .get("/workflows", async ({ principal }) => ({ items: await listWorkflows(s.sql, principal.organizationId) }), {
      permission: "device:view",
      response: { 200: listOf(WorkflowRow) },
      detail: { summary: "Workflows", tags: ["automation"] },
    })
    .post(
      "/workflows",
      async ({ body, principal, set }) => {
        const row = await insertWorkflow(s.sql, { organizationId: principal.organizationId, ...body });
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "workflow.created",
          targetType: "workflow",
          targetId: row.id,
          details: { name: row.name },
        });
        set.status = 201;
        return row;
      },
      {
        permission: "automation:manage",
        body: Workflow,
        response: { 201: WorkflowRow, ...errors(422) },
        detail: { summary: "Create a workflow: an event and the actions it runs", tags: ["automation"] },
      },
    )
    .delete(
      "/workflows/:id",
      async ({ params, principal }) => {
        if (!(await deleteWorkflow(s.sql, principal.organizationId, params.id)))
          throw new NotFound("WORKFLOW_NOT_FOUND", "no such workflow in your organization");
        await writeAudit(s.sql, { ...actorOf(principal), action: "workflow.deleted", targetType: "workflow", targetId: params.id });
        return { ok: true };
      },
      {
        permission: "automation:manage",
        params: IdParam,
        response: { 200: Ok, ...errors(404, 422) },
        detail: { summary: "Delete a workflow", tags: ["automation"] },
      },
    )
    .get(
      "/workflows/:id/runs",
      async ({ params, principal }) => {
        if (!(await getWorkflow(s.sql, principal.organizationId, params.id)))
          throw new NotFound("WORKFLOW_NOT_FOUND", "no such workflow in your organization");
        return { items: await listRuns(s.sql, principal.organizationId, params.id) };
      },
      {
        permission: "device:view",
        params: IdParam,
        response: { 200: listOf(Run), ...errors(404, 422) },
        detail: { summary: "A workflow's runs with each action's result", tags: ["automation"] },
      },
    );
}
