import type { Sql } from "postgres";
import type { Reach } from "../auth/permissions.ts";
import { inReach } from "../devices/reach.store.ts";
import type { InventoryPayload, SoftwareItem } from "../protocol/patch.ts";

type Row = {
  device_id: string;
  source: string;
  name: string;
  arch: string;
  version: string;
  publisher: string | null;
  installed_at: Date | null;
};

const row = (deviceId: string, i: SoftwareItem): Row => ({
  device_id: deviceId,
  source: i.source,
  name: i.name,
  arch: i.arch,
  version: i.version,
  publisher: i.publisher,
  installed_at: i.installedAt === null ? null : new Date(i.installedAt),
});

/** Rows per insert statement (7 parameters each, well under the protocol's 65,535). */
const CHUNK = 2000;

async function insertItems(tx: Sql, deviceId: string, items: readonly SoftwareItem[]): Promise<void> {
  for (let i = 0; i < items.length; i += CHUNK) {
    const rows = items.slice(i, i + CHUNK).map((x) => row(deviceId, x));
    await tx`
      insert into device_software ${tx(rows)}
      on conflict (device_id, source, name, arch) do update
        set version = excluded.version, publisher = excluded.publisher, installed_at = excluded.installed_at`;
  }
}

/** The hash of the inventory stored for a device (null: none yet). */
export async function storedInventoryHash(sql: Sql, deviceId: string): Promise<string | null> {
  const [r] = await sql<{ hash: string | null }[]>`select inventory_hash as hash from device_patch_state where device_id = ${deviceId}`;
  return r?.hash ?? null;
}

/**
 * Applies a scan's inventory in one transaction: the whole list replaces what was stored; a delta
 * applies only on top of the inventory it was computed against (its `base`), otherwise nothing is
 * written and the stored hash stays, so the agent's next scan sends the whole list. Returns whether
 * it was stored.
 */
export async function applyInventory(sql: Sql, organizationId: string, deviceId: string, inv: InventoryPayload): Promise<boolean> {
  return sql.begin(async (tx) => {
    await tx`
      insert into device_patch_state (device_id, organization_id) values (${deviceId}, ${organizationId})
      on conflict (device_id) do nothing`;
    const [state] = await tx<{ hash: string | null }[]>`
      select inventory_hash as hash from device_patch_state where device_id = ${deviceId} for update`;
    const hash = state?.hash ?? null;
    if (inv.mode === "same") return hash === inv.hash;
    if (inv.mode === "delta") {
      if (hash !== inv.base) return false;
      for (const k of inv.removed)
        await tx`delete from device_software where device_id = ${deviceId} and source = ${k.source} and name = ${k.name} and arch = ${k.arch}`;
      await insertItems(tx as unknown as Sql, deviceId, [...inv.added, ...inv.changed]);
    } else {
      await tx`delete from device_software where device_id = ${deviceId}`;
      await insertItems(tx as unknown as Sql, deviceId, inv.items);
    }
    await tx`
      update device_patch_state set inventory_hash = ${inv.hash},
        inventory_items = (select count(*) from device_software where device_id = ${deviceId}),
        inventory_truncated = ${inv.mode === "full" ? inv.truncated : false}
      where device_id = ${deviceId}`;
    return true;
  }) as Promise<boolean>;
}

export interface SoftwareRow {
  source: string;
  name: string;
  arch: string;
  version: string;
  publisher: string | null;
  installedAt: Date | null;
}

/** A device's software, by name, optionally filtered by a name fragment; at most `limit`. */
export async function deviceSoftware(
  sql: Sql,
  deviceId: string,
  q: string | undefined,
  limit: number,
): Promise<{ items: SoftwareRow[]; total: number }> {
  const filter = q ? sql`and lower(name) like ${`%${escapeLike(q.toLowerCase())}%`}` : sql``;
  const items = await sql<SoftwareRow[]>`
    select source, name, arch, version, publisher, installed_at as "installedAt" from device_software
    where device_id = ${deviceId} ${filter} order by lower(name), source, arch limit ${limit}`;
  const [c] = await sql<{ n: number }[]>`select count(*)::int as n from device_software where device_id = ${deviceId} ${filter}`;
  return { items, total: c?.n ?? 0 };
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export interface FleetSoftwareRow {
  deviceId: string;
  hostname: string;
  source: string;
  name: string;
  version: string;
  publisher: string | null;
}

/**
 * Installed software across the devices the principal reaches whose name matches `name` (exactly,
 * case-insensitive, or as a prefix when `prefix`), at most `max` rows; the version filter is applied by
 * the caller (dpkg ordering is not SQL's).
 */
export async function fleetSoftware(
  sql: Sql,
  organizationId: string,
  reach: Reach,
  name: string,
  prefix: boolean,
  max: number,
): Promise<FleetSoftwareRow[]> {
  const match = prefix ? sql`lower(s.name) like ${`${escapeLike(name.toLowerCase())}%`}` : sql`lower(s.name) = ${name.toLowerCase()}`;
  return sql<FleetSoftwareRow[]>`
    select s.device_id as "deviceId", d.hostname, s.source, s.name, s.version, s.publisher
    from device_software s join devices d on d.id = s.device_id
    where d.organization_id = ${organizationId} and ${match}
      ${inReach(sql, reach, { id: "d.id", siteId: "d.site_id" })}
    order by d.hostname, s.name limit ${max}`;
}
