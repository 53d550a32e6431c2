import type { Sql } from "postgres";

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
}

/** Newest alerts first; `before` is the (createdAt, id) of the last row seen. */
export async function listAlerts(
  sql: Sql,
  organizationId: string,
  f: AlertFilter,
  page: {
    limit: number;
    before?: { createdAt: string; id: string } | undefined;
  },
): Promise<{ items: AlertRow[]; total: number }> {
  const where = sql`
    where a.organization_id = ${organizationId}
    ${f.state === "unresolved" ? sql`and a.state <> 'resolved'` : f.state ? sql`and a.state = ${f.state}` : sql``}
    ${f.severity ? sql`and a.severity = ${f.severity}` : sql``}
    ${f.deviceId ? sql`and a.device_id = ${f.deviceId}` : sql``}
    ${f.acknowledged === undefined ? sql`` : f.acknowledged ? sql`and a.acknowledged_at is not null` : sql`and a.acknowledged_at is null`}`;
  const [items, [count]] = await Promise.all([
    sql<AlertRow[]>`
      select a.id, a.device_id as "deviceId", d.hostname as "deviceHostname", a.type, a.severity, a.state, a.message,
             a.created_at as "createdAt", a.acknowledged_at as "acknowledgedAt", a.acknowledged_by as "acknowledgedBy",
             a.resolved_at as "resolvedAt"
      from alerts a join devices d on d.id = a.device_id
      ${where}
      ${page.before ? sql`and (a.created_at, a.id) < (${page.before.createdAt}::timestamptz, ${page.before.id}::uuid)` : sql``}
      order by a.created_at desc, a.id desc
      limit ${page.limit}`,
    sql<{ n: number }[]>`select count(*)::int as n from alerts a ${where}`,
  ]);
  return { items, total: count?.n ?? 0 };
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

/** True when the alert exists in the organization (lists of an alert's children answer 404 otherwise). */
export async function alertExists(sql: Sql, organizationId: string, id: string): Promise<boolean> {
  const [row] = await sql`select 1 from alerts where id = ${id} and organization_id = ${organizationId}`;
  return row !== undefined;
}
