import type { Sql } from "postgres";
import type { ScriptLanguage } from "../protocol/frames.ts";
import type { DeviceOs } from "./restart-service.ts";

/** `schedule`: started only by the schedules that name the workflow, once per device per occurrence. */
export type WorkflowEvent = "alert.firing" | "alert.resolved" | "device.offline" | "device.online" | "schedule";
export interface Trigger {
  event: WorkflowEvent;
  /** For alert events: only alerts of this type (e.g. disk_critical, or a rule's type). */
  alertType?: string;
}
export type Action =
  | { type: "run_script"; scriptId?: string; language?: ScriptLanguage; content?: string; args?: string[]; timeoutSeconds?: number }
  | { type: "restart_service"; service: string }
  | { type: "notify"; channelIds: string[] }
  | { type: "add_note"; text: string };

export interface WorkflowRow {
  id: string;
  organizationId: string;
  name: string;
  trigger: Trigger;
  actions: Action[];
  enabled: boolean;
  createdAt: Date;
}

export interface ActionResult {
  action: Action["type"];
  ok: boolean;
  /** The command a run_script or restart_service action queued. */
  commandId?: string;
  error?: string;
  /** Why an action did nothing without failing (add_note on an event without an alert). */
  skipped?: string;
}

const columns = (sql: Sql) => sql`id, organization_id as "organizationId", name, trigger, actions, enabled, created_at as "createdAt"`;

export async function insertWorkflow(
  sql: Sql,
  w: { organizationId: string; name: string; trigger: Trigger; actions: Action[] },
): Promise<WorkflowRow> {
  const [row] = await sql<WorkflowRow[]>`
    insert into workflows (organization_id, name, trigger, actions)
    values (${w.organizationId}, ${w.name}, ${sql.json(w.trigger as never)}, ${sql.json(w.actions as never)}) returning ${columns(sql)}`;
  if (!row) throw new Error("insert returned nothing");
  return row;
}

export async function listWorkflows(sql: Sql, organizationId: string): Promise<WorkflowRow[]> {
  return sql<WorkflowRow[]>`select ${columns(sql)} from workflows where organization_id = ${organizationId} order by name`;
}

export async function getWorkflow(sql: Sql, organizationId: string, id: string): Promise<WorkflowRow | undefined> {
  const [row] = await sql<WorkflowRow[]>`select ${columns(sql)} from workflows where id = ${id} and organization_id = ${organizationId}`;
  return row;
}

export async function deleteWorkflow(sql: Sql, organizationId: string, id: string): Promise<boolean> {
  const rows = await sql`delete from workflows where id = ${id} and organization_id = ${organizationId} returning id`;
  return rows.count > 0;
}

/** Enabled workflows of an organization that an event starts. */
export async function matching(
  sql: Sql,
  organizationId: string,
  event: WorkflowEvent,
  alertType: string | undefined,
): Promise<WorkflowRow[]> {
  return sql<WorkflowRow[]>`
    select ${columns(sql)} from workflows
    where organization_id = ${organizationId} and enabled and trigger ->> 'event' = ${event}
      and (trigger ->> 'alertType' is null or trigger ->> 'alertType' = ${alertType ?? null})`;
}

export async function insertRun(
  sql: Sql,
  r: { workflowId: string; organizationId: string; deviceId: string; event: string; alertId: string | null; results: ActionResult[] },
): Promise<void> {
  await sql`insert into workflow_runs (workflow_id, organization_id, device_id, event, alert_id, results)
            values (${r.workflowId}, ${r.organizationId}, ${r.deviceId}, ${r.event}, ${r.alertId}, ${sql.json(r.results as never)})`;
}

export async function listRuns(sql: Sql, organizationId: string, workflowId: string) {
  return sql<{ id: string; deviceId: string | null; event: string; alertId: string | null; startedAt: Date; results: ActionResult[] }[]>`
    select id, device_id as "deviceId", event, alert_id as "alertId", started_at as "startedAt", results
    from workflow_runs where workflow_id = ${workflowId} and organization_id = ${organizationId}
    order by started_at desc limit 200`;
}

/** The OS of one of the organization's devices, or undefined when it has no such device. */
export async function deviceOs(sql: Sql, organizationId: string, deviceId: string): Promise<DeviceOs | undefined> {
  const [row] = await sql<{ os: DeviceOs }[]>`select os from devices where id = ${deviceId} and organization_id = ${organizationId}`;
  return row?.os;
}
