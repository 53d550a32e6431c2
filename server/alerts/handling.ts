import type { Sql } from "postgres";
import type { Actor } from "../audit/actor.ts";
import type { Scope } from "../rules/store.ts";

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

/** Resolves an open alert by hand; undefined when there is no such open alert. */
export async function resolveByHand(
  sql: Sql,
  organizationId: string,
  alertId: string,
): Promise<{ id: string; deviceId: string } | undefined> {
  const [row] = await sql<{ id: string; deviceId: string }[]>`
    update alerts set state = 'resolved', resolved_at = now()
    where id = ${alertId} and organization_id = ${organizationId} and state <> 'resolved'
    returning id, device_id as "deviceId"`;
  return row;
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
