import type { Sql } from "postgres";
import type { Reach } from "../auth/permissions.ts";
import { inReach } from "../devices/reach.store.ts";

/** Where a compliance report looks: the whole organization, or one client, site or smart group. */
export type ComplianceScope = { clientId?: string; siteId?: string; groupId?: string };

/**
 * One device's patch compliance: `compliant` (no critical or security update missing and no failed
 * install), `missing` (a critical or security update not installed, not denied), `failed` (an install
 * failed), `unknown` (never scanned). Read from the counts server/patches keeps on each device's state row.
 */
export interface ComplianceRow {
  deviceId: string;
  hostname: string;
  clientName: string;
  siteName: string;
  status: "compliant" | "missing" | "failed" | "unknown";
  scannedAt: Date | null;
  missingCritical: number;
  missingSecurity: number;
  /** When the oldest critical or security update still missing was first seen. */
  missingSince: Date | null;
  /** A critical or security update has been missing longer than the report's `overdueDays`. */
  overdue: boolean;
  failed: number;
  pending: number;
}

export interface ComplianceSummary {
  devices: number;
  compliant: number;
  missing: number;
  failed: number;
  unknown: number;
  missingCritical: number;
  missingSecurity: number;
  overdue: number;
}

function scoped(sql: Sql, s: ComplianceScope) {
  return sql`
    ${s.clientId ? sql`and st.client_id = ${s.clientId}` : sql``}
    ${s.siteId ? sql`and d.site_id = ${s.siteId}` : sql``}
    ${s.groupId ? sql`and d.id in (select device_id from device_group_members where group_id = ${s.groupId})` : sql``}`;
}

const STATUS = `case when ps.scanned_at is null then 'unknown' when ps.failed_updates > 0 then 'failed'
  when ps.missing_critical + ps.missing_security > 0 then 'missing' else 'compliant' end`;

/** Each device in scope with its compliance, worst first, then by hostname; at most `limit` after `offset`. */
export async function complianceRows(
  sql: Sql,
  organizationId: string,
  reach: Reach | null,
  scope: ComplianceScope,
  overdueDays: number,
  limit: number,
  offset: number,
): Promise<ComplianceRow[]> {
  return sql<ComplianceRow[]>`
    select d.id as "deviceId", d.hostname, c.name as "clientName", st.name as "siteName", ${sql.unsafe(STATUS)} as status,
      ps.scanned_at as "scannedAt", coalesce(ps.missing_critical, 0) as "missingCritical", coalesce(ps.missing_security, 0) as "missingSecurity",
      ps.missing_since as "missingSince", coalesce(ps.missing_since < now() - make_interval(days => ${overdueDays}), false) as overdue,
      coalesce(ps.failed_updates, 0) as failed, coalesce(ps.pending_updates, 0) as pending
    from devices d
    join sites st on st.id = d.site_id
    join clients c on c.id = st.client_id
    left join device_patch_state ps on ps.device_id = d.id
    where d.organization_id = ${organizationId} ${scoped(sql, scope)}
      ${inReach(sql, reach, { id: "d.id", siteId: "d.site_id" })}
    order by case when ps.scanned_at is null then 1 when ps.failed_updates > 0 then 3
                  when ps.missing_critical + ps.missing_security > 0 then 2 else 0 end desc,
             ps.missing_critical desc nulls last, ps.missing_security desc nulls last, d.hostname, d.id
    limit ${limit} offset ${offset}`;
}

/** Totals over every device in scope (one pass over the devices' state rows, no rows returned). */
export async function complianceSummary(
  sql: Sql,
  organizationId: string,
  reach: Reach | null,
  scope: ComplianceScope,
  overdueDays: number,
): Promise<ComplianceSummary> {
  const [r] = await sql<ComplianceSummary[]>`
    select count(*)::int as devices,
      count(*) filter (where ps.scanned_at is not null and ps.failed_updates = 0 and ps.missing_critical + ps.missing_security = 0)::int as compliant,
      count(*) filter (where ps.scanned_at is not null and ps.failed_updates = 0 and ps.missing_critical + ps.missing_security > 0)::int as missing,
      count(*) filter (where ps.scanned_at is not null and ps.failed_updates > 0)::int as failed,
      count(*) filter (where ps.scanned_at is null)::int as unknown,
      count(*) filter (where ps.missing_critical > 0)::int as "missingCritical",
      count(*) filter (where ps.missing_security > 0)::int as "missingSecurity",
      count(*) filter (where ps.missing_since < now() - make_interval(days => ${overdueDays}))::int as overdue
    from devices d join sites st on st.id = d.site_id
    left join device_patch_state ps on ps.device_id = d.id
    where d.organization_id = ${organizationId} ${scoped(sql, scope)}
      ${inReach(sql, reach, { id: "d.id", siteId: "d.site_id" })}`;
  return r as ComplianceSummary;
}

/** Writes today's compliance of every organization (the history graph's points), replacing an earlier one of the day. */
export async function snapshotCompliance(
  sql: Sql,
  organizationIds: readonly string[],
  summaryOf: (org: string) => Promise<ComplianceSummary>,
): Promise<void> {
  for (const org of organizationIds) {
    const s = await summaryOf(org);
    await sql`
      insert into patch_compliance_history (organization_id, day, devices, compliant, missing_critical, missing_security, failed)
      values (${org}, current_date, ${s.devices}, ${s.compliant}, ${s.missingCritical}, ${s.missingSecurity}, ${s.failed})
      on conflict (organization_id, day) do update set devices = excluded.devices, compliant = excluded.compliant,
        missing_critical = excluded.missing_critical, missing_security = excluded.missing_security, failed = excluded.failed`;
  }
}

/** Organizations with patch data (the daily snapshot's list). */
export async function organizationsWithPatches(sql: Sql): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`select distinct organization_id as id from device_patch_state`;
  return rows.map((r) => r.id);
}

/** The organization's compliance history, oldest first, for the last `days`. */
export async function complianceHistory(
  sql: Sql,
  organizationId: string,
  days: number,
): Promise<{ day: string; devices: number; compliant: number; missingCritical: number; missingSecurity: number; failed: number }[]> {
  return sql`
    select to_char(day, 'YYYY-MM-DD') as day, devices, compliant, missing_critical as "missingCritical",
      missing_security as "missingSecurity", failed
    from patch_compliance_history where organization_id = ${organizationId} and day > current_date - ${days}::int order by day`;
}

/** The organization's name (report titles). */
export async function organizationName(sql: Sql, organizationId: string): Promise<string> {
  const [r] = await sql<{ name: string }[]>`select name from organizations where id = ${organizationId}`;
  return r?.name ?? "";
}
