import type { Sql } from "postgres";
import type { CommandSpec } from "../protocol/frames.ts";

export type Target =
  | { deviceIds: string[] }
  | { siteId: string }
  | { tag: string }
  /** A smart group's members at the time of the occurrence. */
  | { groupId: string }
  /** The devices a policy reaches then (the schedule is part of that policy). */
  | { policyId: string };

/** The SQL condition over `devices d` for a target. */
function targetSql(sql: Sql, t: Target) {
  if ("deviceIds" in t) return sql`d.id = any(${t.deviceIds}::uuid[])`;
  if ("siteId" in t) return sql`d.site_id = ${t.siteId}`;
  if ("tag" in t) return sql`d.tags @> array[${t.tag}]::text[]`;
  if ("groupId" in t) return sql`exists (select 1 from device_group_members m where m.group_id = ${t.groupId} and m.device_id = d.id)`;
  return sql`exists (select 1 from device_policy_links l where l.policy_id = ${t.policyId} and l.device_id = d.id and l.blocked_by is null)`;
}

export interface ScheduleRow {
  id: string;
  organizationId: string;
  name: string;
  cron: string | null;
  runAt: Date | null;
  timezone: string;
  target: Target;
  /** The script to run, or null when the schedule runs a workflow. */
  spec: CommandSpec | null;
  scriptId: string | null;
  workflowId: string | null;
  /** Wakes its devices (Wake-on-LAN) instead of running a script or a workflow. */
  wake: boolean;
  enabled: boolean;
  nextRunAt: Date | null;
  lastRunAt: Date | null;
  createdAt: Date;
}

const columns = (sql: Sql) => sql`
  id, organization_id as "organizationId", name, cron, run_at as "runAt", timezone, target, spec, script_id as "scriptId",
  workflow_id as "workflowId", wake,
  enabled, next_run_at as "nextRunAt", last_run_at as "lastRunAt", created_at as "createdAt"`;

export async function insertSchedule(
  sql: Sql,
  s: Omit<ScheduleRow, "id" | "enabled" | "lastRunAt" | "createdAt"> & { createdBy: string | null },
): Promise<ScheduleRow> {
  const [row] = await sql<ScheduleRow[]>`
    insert into schedules (organization_id, name, cron, run_at, timezone, target, spec, script_id, workflow_id, wake, next_run_at, created_by)
    values (${s.organizationId}, ${s.name}, ${s.cron}, ${s.runAt}, ${s.timezone}, ${sql.json(s.target as never)},
            ${s.spec ? sql.json(s.spec as never) : null}, ${s.scriptId}, ${s.workflowId}, ${s.wake}, ${s.nextRunAt}, ${s.createdBy})
    returning ${columns(sql)}`;
  if (!row) throw new Error("insert returned nothing");
  return row;
}

export async function listSchedules(sql: Sql, organizationId: string): Promise<ScheduleRow[]> {
  return sql<ScheduleRow[]>`select ${columns(sql)} from schedules where organization_id = ${organizationId} order by name`;
}

export async function setEnabled(
  sql: Sql,
  organizationId: string,
  id: string,
  enabled: boolean,
  nextRunAt: Date | null,
): Promise<ScheduleRow | undefined> {
  const [row] = await sql<ScheduleRow[]>`
    update schedules set enabled = ${enabled}, next_run_at = ${nextRunAt} where id = ${id} and organization_id = ${organizationId}
    returning ${columns(sql)}`;
  return row;
}

export async function getSchedule(sql: Sql, organizationId: string, id: string): Promise<ScheduleRow | undefined> {
  const [row] = await sql<ScheduleRow[]>`select ${columns(sql)} from schedules where id = ${id} and organization_id = ${organizationId}`;
  return row;
}

/** Deletes the schedules a policy holds (with the policy); how many. */
export async function deleteSchedulesOfPolicy(sql: Sql, organizationId: string, policyId: string): Promise<number> {
  const rows =
    await sql`delete from schedules where organization_id = ${organizationId} and target->>'policyId' = ${policyId} returning id`;
  return rows.count;
}

export async function deleteSchedule(sql: Sql, organizationId: string, id: string): Promise<boolean> {
  const rows = await sql`delete from schedules where id = ${id} and organization_id = ${organizationId} returning id`;
  return rows.count > 0;
}

export async function listRuns(sql: Sql, organizationId: string, scheduleId: string) {
  return sql<{ id: string; dueAt: Date; startedAt: Date; deviceCount: number; commandIds: string[] }[]>`
    select id, due_at as "dueAt", started_at as "startedAt", device_count as "deviceCount", command_ids as "commandIds"
    from schedule_runs where schedule_id = ${scheduleId} and organization_id = ${organizationId}
    order by due_at desc limit 200`;
}

/**
 * Runs `run` for each of at most `limit` due schedules, in one transaction in which their rows are
 * locked (another server process skips them); when one run throws, all of them roll back.
 */
export async function runDue<T>(sql: Sql, limit: number, run: (tx: Sql, schedule: ScheduleRow) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  await sql.begin(async (t) => {
    const tx = t as unknown as Sql;
    for (const sch of await tx<ScheduleRow[]>`
      select ${columns(tx)} from schedules where enabled and next_run_at <= now()
      order by next_run_at limit ${limit} for update skip locked`)
      out.push(await run(tx, sch));
  });
  return out;
}

/** Devices a schedule targets (only the organization's own). */
export async function targetDevices(sql: Sql, organizationId: string, t: Target): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    select d.id from devices d where d.organization_id = ${organizationId} and ${targetSql(sql, t)}`;
  return rows.map((r) => r.id);
}

/** Records one occurrence; false when another process already ran it. */
export async function recordRun(
  sql: Sql,
  r: { scheduleId: string; organizationId: string; dueAt: Date; deviceCount: number; commandIds: string[] },
): Promise<boolean> {
  const rows = await sql`
    insert into schedule_runs (schedule_id, organization_id, due_at, device_count, command_ids)
    values (${r.scheduleId}, ${r.organizationId}, ${r.dueAt}, ${r.deviceCount}, ${r.commandIds})
    on conflict (schedule_id, due_at) do nothing returning id`;
  return rows.count > 0;
}

export async function advance(sql: Sql, id: string, dueAt: Date, next: Date | null): Promise<void> {
  await sql`update schedules set last_run_at = ${dueAt}, next_run_at = ${next}, enabled = ${next !== null} where id = ${id}`;
}
