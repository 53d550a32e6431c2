import type { Sql } from "postgres";
import { countUpTo, pageRows } from "../lib/limits.store.ts";
import type { Actor, ActorType } from "./actor.ts";

export interface AuditEntry {
  organizationId: string | null;
  actorType: ActorType | "agent" | "system";
  actorId: string | null;
  /** The actor's name at the time (e-mail, API key name, rule/workflow/schedule name). */
  actorName?: string | null;
  action: string;
  targetType?: string;
  targetId?: string | null;
  details?: Record<string, unknown>;
  ip?: string | null;
}

/** Appends one row to the audit log. Every state change calls this; details never hold secrets. */
export async function writeAudit(sql: Sql, e: AuditEntry): Promise<void> {
  await sql`
    insert into audit_log (organization_id, actor_type, actor_id, actor_name, action, target_type, target_id, details, ip)
    values (${e.organizationId}, ${e.actorType}, ${e.actorId}, ${e.actorName ?? null}, ${e.action}, ${e.targetType ?? null},
            ${e.targetId ?? null}, ${sql.json((e.details ?? {}) as never)}, ${e.ip ?? null})`;
}

/** The actor fields of an audit entry for an actor of the organization. */
export function auditActor(organizationId: string, a: Actor): Pick<AuditEntry, "organizationId" | "actorType" | "actorId" | "actorName"> {
  return { organizationId, actorType: a.type, actorId: a.id, actorName: a.name };
}

/** Filters of the audit page and export (see routes.ts for what each means). */
export interface AuditFilter {
  actor?: string | undefined;
  actorType?: string | undefined;
  action?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

/** One audit entry as the API shows it; `id` is the row's sequence number (newest is highest). */
export interface AuditRow {
  id: string;
  createdAt: Date;
  actorType: AuditEntry["actorType"];
  actorId: string | null;
  actorName: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  details: Record<string, unknown>;
  ip: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const likeText = (s: string) => s.replace(/[\\%_]/g, "\\$&");

/**
 * An entry's columns. The selected `id` is its text (a bigint does not fit a JS number), so orders
 * name `audit_log.id`: a bare `order by id` sorted that text ("9" after "10": entries past a power
 * of ten were skipped by the cursor) and could not walk an index (a sort of every match).
 */
const auditColumns = (sql: Sql) => sql`
  id::text as id, created_at as "createdAt", actor_type as "actorType", actor_id as "actorId", actor_name as "actorName",
  action, target_type as "targetType", target_id as "targetId", details, ip`;

/**
 * The organization's entries matching the filter: `actor` is an actor id when it is a UUID, else a
 * case-insensitive part of the actor's name (e-mail, key name); `action` ending in `.` or `*` is a
 * prefix (`command.` = every command action), else exact; `from` inclusive, `to` exclusive.
 */
function matching(sql: Sql, organizationId: string, f: AuditFilter) {
  const action = f.action?.replace(/\*$/, "");
  return sql`organization_id = ${organizationId}
    ${f.actor ? (UUID.test(f.actor) ? sql`and actor_id = ${f.actor}` : sql`and actor_name ilike ${`%${likeText(f.actor)}%`}`) : sql``}
    ${f.actorType ? sql`and actor_type = ${f.actorType}` : sql``}
    ${action ? (action.endsWith(".") ? sql`and action like ${`${likeText(action)}%`}` : sql`and action = ${action}`) : sql``}
    ${f.targetType ? sql`and target_type = ${f.targetType}` : sql``}
    ${f.targetId ? sql`and target_id = ${f.targetId}` : sql``}
    ${f.from ? sql`and created_at >= ${f.from}` : sql``}
    ${f.to ? sql`and created_at < ${f.to}` : sql``}`;
}

/**
 * One page of the organization's audit entries, newest first; `beforeId` is the last id seen. The
 * match is counted (up to `countCap`) only when `countCap` is given: the first page counts, later
 * pages carry that count in their cursor.
 */
export async function listAudit(
  sql: Sql,
  organizationId: string,
  f: AuditFilter,
  page: { limit: number; beforeId?: string | undefined; countCap?: number | undefined },
): Promise<{ items: AuditRow[]; total: { n: number; exact: boolean } | undefined }> {
  const rows = pageRows(sql, page.limit);
  const [items, total] = await Promise.all([
    sql<AuditRow[]>`
      select ${auditColumns(sql)} from audit_log where ${matching(sql, organizationId, f)}
      ${page.beforeId ? sql`and id < ${page.beforeId}::bigint` : sql``}
      order by audit_log.id desc limit ${rows.limit}`,
    page.countCap === undefined ? undefined : countAudit(sql, organizationId, f, page.countCap),
  ]);
  return { items: rows.take(items), total };
}

/**
 * How many of the organization's entries match the filter: all of them, or up to `cap` (`exact:
 * false` past it). A year of a busy MSP's actions is millions of entries; counting them all for
 * every page a technician opens is what the cap avoids.
 */
export async function countAudit(sql: Sql, organizationId: string, f: AuditFilter, cap?: number): Promise<{ n: number; exact: boolean }> {
  return countUpTo(sql, sql`select 1 from audit_log where ${matching(sql, organizationId, f)}`, cap);
}

/** The organization's matching entries, newest first, at most `max`, in chunks of 500 read through a cursor (for CSV export). */
export function auditChunks(sql: Sql, organizationId: string, f: AuditFilter, max: number): AsyncIterable<AuditRow[]> {
  return sql<AuditRow[]>`
    select ${auditColumns(sql)} from audit_log where ${matching(sql, organizationId, f)} order by audit_log.id desc limit ${max}`.cursor(
    500,
  );
}

/**
 * Deletes entries older than `before`, 10,000 per transaction, and returns how many went. The only
 * deletion path: the table's trigger (migration 00019) refuses deletes unless the transaction set
 * `sentpulse.audit_retention`.
 */
export async function deleteAuditBefore(sql: Sql, before: Date): Promise<number> {
  const batch = 10_000;
  let deleted = 0;
  for (;;) {
    const n = await sql.begin(async (tx) => {
      await tx`select set_config('sentpulse.audit_retention', 'on', true)`;
      const rows = await tx`
        delete from audit_log where id in (select id from audit_log where created_at < ${before} order by id limit ${batch})`;
      return rows.count;
    });
    deleted += n;
    if (n < batch) return deleted;
  }
}
