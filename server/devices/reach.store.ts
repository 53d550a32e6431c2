import type { Sql } from "postgres";
import { isScoped, type Reach } from "../auth/permissions.ts";

/**
 * The one SQL definition of a principal's reach (see `Reach`): `and <device> in reach`, or nothing for
 * the whole organization. `device.id` names the device id column of the caller's query; `device.siteId`,
 * when the query has the device's site column at hand, lets the client half use the sites index
 * instead of a join. Every list, count and feed a scoped user or key reads goes through here.
 */
export function inReach(sql: Sql, reach: Reach | null | undefined, device: { id: string; siteId?: string }) {
  if (!reach || !isScoped(reach)) return sql``;
  const clients = reach.clientIds?.length
    ? device.siteId
      ? sql`${sql(device.siteId)} in (select id from sites where client_id = any(${[...reach.clientIds]}::uuid[]))`
      : sql`${sql(device.id)} in (select d.id from devices d join sites s on s.id = d.site_id where s.client_id = any(${[...reach.clientIds]}::uuid[]))`
    : undefined;
  const groups = reach.groupIds?.length
    ? sql`${sql(device.id)} in (select m.device_id from device_group_members m where m.group_id = any(${[...reach.groupIds]}::uuid[]))`
    : undefined;
  if (clients && groups) return sql`and (${clients} or ${groups})`;
  if (clients) return sql`and ${clients}`;
  if (groups) return sql`and ${groups}`;
  return sql`and false`;
}

/** True when the device is a current member of one of these smart groups. */
export async function inGroups(sql: Sql, deviceId: string, groupIds: readonly string[]): Promise<boolean> {
  if (groupIds.length === 0) return false;
  const rows = await sql`
    select 1 from device_group_members where device_id = ${deviceId} and group_id = any(${[...groupIds]}::uuid[]) limit 1`;
  return rows.count > 0;
}

/** Every device id of the organization the principal reaches (a scoped live feed's filter). */
export async function deviceIdsInReach(sql: Sql, organizationId: string, reach: Reach): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    select d.id from devices d where d.organization_id = ${organizationId} ${inReach(sql, reach, { id: "d.id", siteId: "d.site_id" })}`;
  return rows.map((r) => r.id);
}
