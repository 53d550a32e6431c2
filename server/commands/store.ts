import type { Sql } from "postgres";
import { pageRows } from "../lib/limits.store.ts";
import type { Actor } from "../audit/actor.ts";
import type { Reach } from "../auth/permissions.ts";
import { inReach } from "../devices/reach.store.ts";
import type { CommandSpec } from "../protocol/frames.ts";
import { type CommandStatus, FINAL_COMMAND_STATUSES } from "../protocol/statuses.ts";

const FINAL_STATUSES: readonly CommandStatus[] = FINAL_COMMAND_STATUSES;
/** Stored output per stream, at most; the rest is dropped and the row marked truncated. */
const MAX_STORED_OUTPUT = 1_048_576;

export interface CommandRow {
  id: string;
  deviceId: string;
  type: string;
  payload: CommandSpec;
  status: CommandStatus;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  scriptId: string | null;
  /** Set on the runs of a `script_exit_code` rule's check. */
  checkRuleId: string | null;
  /** The user who asked (null for API keys and automation: see `actor`). */
  requestedBy: string | null;
  /** Who asked: a user, an API key, or the rule, workflow or schedule (null only on rows from before actors were recorded). */
  actor: Actor | null;
  createdAt: Date;
  expiresAt: Date;
  sentAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

const columns = (sql: Sql) => sql`
  id, device_id as "deviceId", type, payload, status, exit_code as "exitCode", stdout, stderr,
  stdout_truncated as "stdoutTruncated", stderr_truncated as "stderrTruncated", script_id as "scriptId",
  check_rule_id as "checkRuleId", requested_by as "requestedBy",
  case when actor_type is null then null else json_build_object('type', actor_type, 'id', actor_id, 'name', actor_name) end as actor,
  created_at as "createdAt", expires_at as "expiresAt", sent_at as "sentAt",
  started_at as "startedAt", finished_at as "finishedAt"`;

/** One command for each of the devices, in one statement. */
export async function insertCommands(
  sql: Sql,
  c: {
    organizationId: string;
    deviceIds: string[];
    spec: CommandSpec;
    scriptId: string | null;
    actor: Actor;
    expiresAt: Date;
    checkRuleId?: string | null;
  },
): Promise<CommandRow[]> {
  const a = c.actor;
  const timeout = c.spec.kind === "run_script" || c.spec.kind === "patch_install" ? c.spec.timeoutSeconds : 300;
  // in id order: the foreign key locks each device row (key share), and a fixed order cannot deadlock
  const deviceIds = [...c.deviceIds].sort();
  const ids = deviceIds.map(() => Bun.randomUUIDv7());
  return sql<CommandRow[]>`
    insert into commands (id, organization_id, device_id, type, payload, script_id, requested_by, actor_type, actor_id, actor_name,
                          expires_at, timeout_seconds, check_rule_id)
    select v.id, ${c.organizationId}, v.device_id, ${c.spec.kind}, ${sql.json(c.spec as never)}, ${c.scriptId},
           ${a.type === "user" ? a.id : null}, ${a.type}, ${a.id}, ${a.name.slice(0, 320)}, ${c.expiresAt}, ${timeout}, ${c.checkRuleId ?? null}
    from unnest(${ids}::uuid[], ${deviceIds}::uuid[]) as v(id, device_id)
    returning ${columns(sql)}`;
}

export async function getCommand(sql: Sql, organizationId: string, id: string): Promise<CommandRow | undefined> {
  const [row] = await sql<CommandRow[]>`select ${columns(sql)} from commands where id = ${id} and organization_id = ${organizationId}`;
  return row;
}

/** Newest first; `before` is the (createdAt, id) of the last row seen. */
export async function listDeviceCommands(
  sql: Sql,
  organizationId: string,
  deviceId: string,
  page: { limit: number; before?: { createdAt: string; id: string } | undefined },
): Promise<{ items: CommandRow[]; total: number }> {
  const rows = pageRows(sql, page.limit);
  const [items, [count]] = await Promise.all([
    sql<CommandRow[]>`
      select ${columns(sql)} from commands
      where organization_id = ${organizationId} and device_id = ${deviceId} and check_rule_id is null
      ${page.before ? sql`and (created_at, id) < (${page.before.createdAt}::timestamptz, ${page.before.id}::uuid)` : sql``}
      order by created_at desc, id desc limit ${rows.limit}`,
    sql<{ n: number }[]>`
      select count(*)::int as n from commands where organization_id = ${organizationId} and device_id = ${deviceId} and check_rule_id is null`,
  ]);
  return { items: rows.take(items), total: count?.n ?? 0 };
}

/** Runs of one library script across devices, newest first. */
export async function listScriptRuns(
  sql: Sql,
  organizationId: string,
  scriptId: string,
  limit: number,
  reach: Reach | null = null,
): Promise<(CommandRow & { hostname: string })[]> {
  return sql<(CommandRow & { hostname: string })[]>`
    select ${columns(sql)}, (select hostname from devices d where d.id = commands.device_id) as hostname
    from commands where organization_id = ${organizationId} and script_id = ${scriptId}
    ${inReach(sql, reach, { id: "device_id" })}
    order by created_at desc, id desc limit ${limit}`;
}

/** Commands a device still has to run or report, oldest first (queued, sent or running, not expired). */
export async function pendingCommands(sql: Sql, deviceId: string, limit = 100): Promise<CommandRow[]> {
  return sql<CommandRow[]>`
    select ${columns(sql)} from commands
    where device_id = ${deviceId} and status in ('queued', 'sent', 'running') and expires_at > now()
    order by created_at, id limit ${limit}`;
}

/**
 * The pending commands of many devices in one query, oldest first per device (at most `perDevice`
 * each): what a node sends its connected agents again after its cluster bus was interrupted.
 */
export async function pendingCommandsOf(sql: Sql, deviceIds: string[], perDevice = 20): Promise<CommandRow[]> {
  return sql<CommandRow[]>`
    select ${columns(sql)} from (
      select c.*, row_number() over (partition by c.device_id order by c.created_at, c.id) as n from commands c
      where c.device_id = any(${deviceIds}::uuid[]) and c.status in ('queued', 'sent', 'running') and c.expires_at > now()
    ) commands where n <= ${perDevice}
    order by device_id, created_at, id`;
}

export async function markSent(sql: Sql, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`update commands set status = 'sent', sent_at = coalesce(sent_at, now()) where id = any(${ids}::uuid[]) and status = 'queued'`;
}

/**
 * Applies an agent's update to a command of that device: appends output (bounded, marking
 * truncation), moves running → final once. Returns the row, or undefined when the command is not
 * this device's or already final (a repeated final update).
 */
export async function applyUpdate(
  sql: Sql,
  deviceId: string,
  u: { commandId: string; status: CommandStatus; exitCode?: number | undefined; stdout?: string | undefined; stderr?: string | undefined },
): Promise<CommandRow | undefined> {
  const final = FINAL_STATUSES.includes(u.status);
  const [row] = await sql<CommandRow[]>`
    update commands set
      stdout = left(stdout || ${u.stdout ?? ""}, ${MAX_STORED_OUTPUT}),
      stdout_truncated = stdout_truncated or length(stdout) + ${u.stdout?.length ?? 0} > ${MAX_STORED_OUTPUT},
      stderr = left(stderr || ${u.stderr ?? ""}, ${MAX_STORED_OUTPUT}),
      stderr_truncated = stderr_truncated or length(stderr) + ${u.stderr?.length ?? 0} > ${MAX_STORED_OUTPUT},
      status = ${u.status},
      exit_code = coalesce(${u.exitCode ?? null}, exit_code),
      started_at = case when ${u.status} = 'expired' then started_at else coalesce(started_at, now()) end,
      sent_at = coalesce(sent_at, now()),
      finished_at = case when ${final} then now() else finished_at end
    where id = ${u.commandId} and device_id = ${deviceId} and status in ('queued', 'sent', 'running')
    returning ${columns(sql)}`;
  return row;
}

/** Queued or sent commands past their expiry become `expired`; returns them. */
export async function expireCommands(sql: Sql): Promise<{ id: string; organizationId: string; deviceId: string }[]> {
  return sql`
    update commands set status = 'expired', finished_at = now()
    where status in ('queued', 'sent') and expires_at <= now()
    returning id, organization_id as "organizationId", device_id as "deviceId"`;
}

/** Deletes runs of script checks created more than `hours` ago, at most `max` at a time; returns how many. */
export async function deleteOldCheckRuns(sql: Sql, hours: number, max: number): Promise<number> {
  const gone = await sql`
    delete from commands where id in (
      select id from commands where check_rule_id is not null and created_at < now() - make_interval(hours => ${hours}) limit ${max})`;
  return gone.count;
}
