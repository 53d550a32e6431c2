import type { Sql } from "postgres";
import { countUpTo, pageRows } from "../lib/limits.store.ts";
import type { Actor } from "../audit/actor.ts";
import type { Reach } from "../auth/permissions.ts";
import { inReach } from "../devices/reach.store.ts";
import type { Scope } from "../rules/store.ts";

export interface AlertRow {
  id: string;
  deviceId: string;
  deviceHostname: string;
  type: string;
  severity: string;
  state: string;
  message: string;
  createdAt: Date;
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
  resolvedAt: Date | null;
}

export interface AlertFilter {
  state?: string | undefined;
  severity?: string | undefined;
  deviceId?: string | undefined;
  acknowledged?: boolean | undefined;
  /** Only alerts of devices with this tag, in this site or client, or members of this smart group now. */
  tag?: string | undefined;
  siteId?: string | undefined;
  clientId?: string | undefined;
  groupId?: string | undefined;
  /** Only alerts of devices the caller reaches (a user or key limited to clients or groups); null or absent for all. */
  reach?: Reach | null | undefined;
}

/** Newest alerts first; `before` is the (createdAt, id) of the last row seen. */
export async function listAlerts(
  sql: Sql,
  organizationId: string,
  f: AlertFilter,
  page: {
    limit: number;
    before?: { createdAt: string; id: string } | undefined;
    /** Count the matches, up to this many (`exact: false` past it); no count when absent. */
    countCap?: number | undefined;
  },
): Promise<{ items: AlertRow[]; total: { n: number; exact: boolean } | undefined }> {
  const where = sql`
    where a.organization_id = ${organizationId}
    ${f.state === "unresolved" ? sql`and a.state <> 'resolved'` : f.state ? sql`and a.state = ${f.state}` : sql``}
    ${f.severity ? sql`and a.severity = ${f.severity}` : sql``}
    ${f.deviceId ? sql`and a.device_id = ${f.deviceId}` : sql``}
    ${f.tag ? sql`and a.device_id in (select d3.id from devices d3 where d3.organization_id = ${organizationId} and d3.tags @> array[${f.tag}]::text[])` : sql``}
    ${f.siteId ? sql`and a.device_id in (select d4.id from devices d4 where d4.site_id = ${f.siteId})` : sql``}
    ${f.clientId ? sql`and a.device_id in (select d5.id from devices d5 join sites s5 on s5.id = d5.site_id where s5.client_id = ${f.clientId})` : sql``}
    ${f.groupId ? sql`and a.device_id in (select m.device_id from device_group_members m where m.group_id = ${f.groupId})` : sql``}
    ${inReach(sql, f.reach, { id: "a.device_id" })}
    ${f.acknowledged === undefined ? sql`` : f.acknowledged ? sql`and a.acknowledged_at is not null` : sql`and a.acknowledged_at is null`}`;
  const rows = pageRows(sql, page.limit);
  const [items, total] = await Promise.all([
    sql<AlertRow[]>`
      select a.id, a.device_id as "deviceId", d.hostname as "deviceHostname", a.type, a.severity, a.state, a.message,
             a.created_at as "createdAt", a.acknowledged_at as "acknowledgedAt", a.acknowledged_by as "acknowledgedBy",
             a.resolved_at as "resolvedAt"
      from alerts a join devices d on d.id = a.device_id
      ${where}
      ${page.before ? sql`and (a.created_at, a.id) < (${page.before.createdAt}::timestamptz, ${page.before.id}::uuid)` : sql``}
      order by a.created_at desc, a.id desc
      limit ${rows.limit}`,
    page.countCap === undefined ? undefined : countUpTo(sql, sql`select 1 from alerts a ${where}`, page.countCap),
  ]);
  return { items: rows.take(items), total };
}

/** Acknowledges an alert of this organization; undefined when there is no such alert. */
export async function acknowledgeAlert(sql: Sql, organizationId: string, id: string, userId: string | null): Promise<AlertRow | undefined> {
  const [row] = await sql<AlertRow[]>`
    update alerts a set acknowledged_at = coalesce(a.acknowledged_at, now()), acknowledged_by = coalesce(a.acknowledged_by, ${userId})
    from devices d
    where a.id = ${id} and a.organization_id = ${organizationId} and d.id = a.device_id
    returning a.id, a.device_id as "deviceId", d.hostname as "deviceHostname", a.type, a.severity, a.state, a.message,
              a.created_at as "createdAt", a.acknowledged_at as "acknowledgedAt", a.acknowledged_by as "acknowledgedBy",
              a.resolved_at as "resolvedAt"`;
  return row;
}

/** The device an alert of the organization is about; undefined when there is no such alert. */
export async function alertDevice(sql: Sql, organizationId: string, id: string): Promise<string | undefined> {
  const [row] = await sql<{ deviceId: string }[]>`
    select device_id as "deviceId" from alerts where id = ${id} and organization_id = ${organizationId}`;
  return row?.deviceId;
}

/** True when the alert exists in the organization (lists of an alert's children answer 404 otherwise). */
export async function alertExists(sql: Sql, organizationId: string, id: string): Promise<boolean> {
  const [row] = await sql`select 1 from alerts where id = ${id} and organization_id = ${organizationId}`;
  return row !== undefined;
}

/** An alert to raise: a rule's (`ruleId`) or the server's own (`ruleId` null, e.g. `offline`). */
export interface NewAlert {
  organizationId: string;
  deviceId: string;
  ruleId: string | null;
  type: string;
  severity: string;
  message: string;
}

/** An alert as raised or resolved, for the dashboards and notifications. */
export interface AlertChange {
  id: string;
  organizationId: string;
  deviceId: string;
  type: string;
  severity: string;
  message: string;
}

const changeColumns = (sql: Sql) => sql`
  id, organization_id as "organizationId", device_id as "deviceId", type, severity, message`;

/**
 * Raises firing alerts: the one place alerts are opened. A device has at most one open alert per
 * rule, and per type for alerts without a rule (unique indexes, 00006); an alert already open is
 * left as it is and not returned.
 */
export async function openAlerts(sql: Sql, alerts: NewAlert[]): Promise<AlertChange[]> {
  if (alerts.length === 0) return [];
  return sql<AlertChange[]>`
    insert into alerts (organization_id, device_id, rule_id, type, severity, state, message)
    select v.org, v.device, v.rule, v.type, v.severity, 'firing', v.message
    from unnest(${alerts.map((a) => a.organizationId)}::uuid[], ${alerts.map((a) => a.deviceId)}::uuid[],
                ${alerts.map((a) => a.ruleId)}::uuid[], ${alerts.map((a) => a.type)}::text[],
                ${alerts.map((a) => a.severity)}::text[], ${alerts.map((a) => a.message)}::text[])
      as v(org, device, rule, type, severity, message)
    on conflict do nothing
    returning ${changeColumns(sql)}`;
}

/**
 * Resolves open alerts: the one place alerts are resolved. By id (within an organization when
 * given: a technician resolving by hand), or every open alert of a type on some devices (a device
 * back from offline). Returns the alerts it resolved.
 */
export async function resolveAlerts(
  sql: Sql,
  which: { ids: string[]; organizationId?: string } | { type: string; deviceIds: string[] },
): Promise<AlertChange[]> {
  const match =
    "ids" in which
      ? sql`id = any(${which.ids}::uuid[]) ${which.organizationId ? sql`and organization_id = ${which.organizationId}` : sql``}`
      : sql`type = ${which.type} and device_id = any(${which.deviceIds}::uuid[])`;
  return sql<AlertChange[]>`
    update alerts set state = 'resolved', resolved_at = now()
    where state <> 'resolved' and ${match}
    returning ${changeColumns(sql)}`;
}

export interface NoteRow {
  id: string;
  /** The author when a user wrote it. */
  userId: string | null;
  /** Who wrote it: a user, an API key, or the workflow (null only on notes from before actors were recorded). */
  actor: Actor | null;
  text: string;
  createdAt: Date;
}

const noteColumns = (sql: Sql) => sql`
  id, user_id as "userId", text, created_at as "createdAt",
  case when actor_type is null then null else json_build_object('type', actor_type, 'id', actor_id, 'name', actor_name) end as actor`;

/** Adds a note to an alert of the organization; undefined when there is no such alert. */
export async function addNote(sql: Sql, organizationId: string, alertId: string, actor: Actor, text: string): Promise<NoteRow | undefined> {
  const [row] = await sql<NoteRow[]>`
    insert into alert_notes (alert_id, organization_id, user_id, actor_type, actor_id, actor_name, text)
    select a.id, a.organization_id, ${actor.type === "user" ? actor.id : null}, ${actor.type}, ${actor.id}, ${actor.name.slice(0, 320)}, ${text}
    from alerts a where a.id = ${alertId} and a.organization_id = ${organizationId}
    returning ${noteColumns(sql)}`;
  return row;
}

export async function listNotes(sql: Sql, organizationId: string, alertId: string): Promise<NoteRow[]> {
  return sql<NoteRow[]>`
    select ${noteColumns(sql)} from alert_notes
    where alert_id = ${alertId} and organization_id = ${organizationId} order by created_at`;
}

export interface WindowRow {
  id: string;
  organizationId: string;
  name: string;
  scope: Scope;
  startsAt: Date;
  endsAt: Date;
}

export async function insertWindow(sql: Sql, w: Omit<WindowRow, "id">): Promise<WindowRow> {
  const [row] = await sql<WindowRow[]>`
    insert into maintenance_windows (organization_id, name, scope, starts_at, ends_at)
    values (${w.organizationId}, ${w.name}, ${sql.json(w.scope as never)}, ${w.startsAt}, ${w.endsAt})
    returning id, organization_id as "organizationId", name, scope, starts_at as "startsAt", ends_at as "endsAt"`;
  if (!row) throw new Error("insert returned nothing");
  return row;
}

/** Windows not yet over (all organizations when none is given). */
export async function currentWindows(sql: Sql, organizationId?: string): Promise<WindowRow[]> {
  return sql<WindowRow[]>`
    select id, organization_id as "organizationId", name, scope, starts_at as "startsAt", ends_at as "endsAt"
    from maintenance_windows where ends_at > now() ${organizationId ? sql`and organization_id = ${organizationId}` : sql``}
    order by starts_at limit 1000`;
}

export async function deleteWindow(sql: Sql, organizationId: string, id: string): Promise<boolean> {
  const rows = await sql`delete from maintenance_windows where id = ${id} and organization_id = ${organizationId} returning id`;
  return rows.count > 0;
}

/** Firing alerts nobody acknowledged within their rule's escalation delay; marked escalated. */
export async function dueEscalations(
  sql: Sql,
): Promise<{ id: string; organizationId: string; message: string; channelIds: string[]; hostname: string }[]> {
  return sql`
    update alerts a set escalated_at = now()
    from alert_rules r, devices d
    where r.id = a.rule_id and d.id = a.device_id and a.state = 'firing' and a.acknowledged_at is null and a.escalated_at is null
      and r.escalate_after_seconds is not null and a.created_at < now() - make_interval(secs => r.escalate_after_seconds)
    returning a.id, a.organization_id as "organizationId", a.message, r.escalation_channel_ids as "channelIds", d.hostname`;
}
