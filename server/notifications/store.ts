import type { Sql } from "postgres";

export type ChannelType = "email" | "slack" | "teams" | "discord" | "telegram" | "webhook" | "sms";

export interface ChannelRow {
  id: string;
  organizationId: string;
  name: string;
  type: ChannelType;
  configEncrypted: string;
  enabled: boolean;
  createdAt: Date;
}

export interface OutboxRow {
  id: string;
  organizationId: string;
  channelId: string;
  alertId: string | null;
  event: string;
  payload: { subject: string; text: string; alert?: Record<string, unknown> };
  status: "pending" | "delivered" | "dead";
  attempts: number;
  lastError: string | null;
  createdAt: Date;
}

const channelColumns = (sql: Sql) => sql`
  id, organization_id as "organizationId", name, type, config_encrypted as "configEncrypted", enabled, created_at as "createdAt"`;
const outboxColumns = (sql: Sql) => sql`
  id, organization_id as "organizationId", channel_id as "channelId", alert_id as "alertId", event, payload, status, attempts,
  last_error as "lastError", created_at as "createdAt"`;

export async function insertChannel(
  sql: Sql,
  c: { organizationId: string; name: string; type: ChannelType; configEncrypted: string },
): Promise<ChannelRow> {
  const [row] = await sql<ChannelRow[]>`
    insert into notification_channels (organization_id, name, type, config_encrypted)
    values (${c.organizationId}, ${c.name}, ${c.type}, ${c.configEncrypted}) returning ${channelColumns(sql)}`;
  if (!row) throw new Error("insert returned nothing");
  return row;
}

export async function listChannels(sql: Sql, organizationId: string): Promise<ChannelRow[]> {
  return sql<
    ChannelRow[]
  >`select ${channelColumns(sql)} from notification_channels where organization_id = ${organizationId} order by name`;
}

export async function getChannel(sql: Sql, organizationId: string, id: string): Promise<ChannelRow | undefined> {
  const [row] = await sql<
    ChannelRow[]
  >`select ${channelColumns(sql)} from notification_channels where id = ${id} and organization_id = ${organizationId}`;
  return row;
}

export async function deleteChannel(sql: Sql, organizationId: string, id: string): Promise<boolean> {
  const rows = await sql`delete from notification_channels where id = ${id} and organization_id = ${organizationId} returning id`;
  return rows.count > 0;
}

/** Queues one delivery per enabled channel of the organization among `channelIds`. */
export async function enqueue(
  sql: Sql,
  n: { organizationId: string; channelIds: string[]; alertId: string | null; event: string; payload: OutboxRow["payload"] },
): Promise<number> {
  if (n.channelIds.length === 0) return 0;
  const rows = await sql`
    insert into notification_outbox (organization_id, channel_id, alert_id, event, payload)
    select ${n.organizationId}, c.id, ${n.alertId}, ${n.event}, ${sql.json(n.payload as never)}
    from notification_channels c
    where c.organization_id = ${n.organizationId} and c.enabled and c.id = any(${n.channelIds}::uuid[])
    returning id`;
  return rows.count;
}

/** Takes up to `limit` due deliveries with a lease (so another node does not take them too). */
export async function claimDue(
  sql: Sql,
  limit: number,
  leaseSeconds: number,
): Promise<(OutboxRow & { type: ChannelType; configEncrypted: string })[]> {
  return sql`
    with due as (
      select id from notification_outbox where status = 'pending' and next_attempt_at <= now()
      order by next_attempt_at limit ${limit} for update skip locked
    )
    update notification_outbox o set next_attempt_at = now() + make_interval(secs => ${leaseSeconds})
    from due, notification_channels c
    where o.id = due.id and c.id = o.channel_id
    returning o.id, o.organization_id as "organizationId", o.channel_id as "channelId", o.alert_id as "alertId", o.event, o.payload,
              o.status, o.attempts, o.last_error as "lastError", o.created_at as "createdAt", c.type, c.config_encrypted as "configEncrypted"`;
}

export async function markDelivered(sql: Sql, id: string): Promise<void> {
  await sql`update notification_outbox set status = 'delivered', delivered_at = now(), attempts = attempts + 1, last_error = null where id = ${id}`;
}

/** A failed attempt: retry after `retryInSeconds`, or dead once `maxAttempts` is reached. */
export async function markFailed(
  sql: Sql,
  id: string,
  error: string,
  retryInSeconds: number,
  maxAttempts: number,
): Promise<"pending" | "dead"> {
  const [row] = await sql<{ status: "pending" | "dead" }[]>`
    update notification_outbox set attempts = attempts + 1, last_error = ${error.slice(0, 1000)},
      status = case when attempts + 1 >= ${maxAttempts} then 'dead' else 'pending' end,
      next_attempt_at = now() + make_interval(secs => ${retryInSeconds})
    where id = ${id} returning status`;
  return row?.status ?? "dead";
}

export async function listDead(sql: Sql, organizationId: string): Promise<OutboxRow[]> {
  return sql<OutboxRow[]>`
    select ${outboxColumns(sql)} from notification_outbox where organization_id = ${organizationId} and status = 'dead'
    order by created_at desc limit 500`;
}

export async function retryDead(sql: Sql, organizationId: string, id: string): Promise<boolean> {
  const rows = await sql`
    update notification_outbox set status = 'pending', attempts = 0, next_attempt_at = now()
    where id = ${id} and organization_id = ${organizationId} and status = 'dead' returning id`;
  return rows.count > 0;
}
