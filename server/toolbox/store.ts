import type { Sql } from "postgres";
import type { DeviceFacts } from "../protocol/telemetry.ts";

/** A device's interfaces and status, as Wake-on-LAN needs them. */
export interface WakeDevice {
  id: string;
  hostname: string;
  status: string;
  nics: DeviceFacts["nics"];
}

/** The device (in the organization) and every online device of the organization that may relay, at most 5,000. */
export async function wakeCandidates(
  sql: Sql,
  organizationId: string,
  deviceId: string,
): Promise<{ target?: WakeDevice; online: WakeDevice[] }> {
  const [target] = await sql<WakeDevice[]>`
    select id, hostname, status, coalesce(nics, '[]'::jsonb) as nics from devices where id = ${deviceId} and organization_id = ${organizationId}`;
  const online = await sql<WakeDevice[]>`
    select id, hostname, status, coalesce(nics, '[]'::jsonb) as nics from devices
    where organization_id = ${organizationId} and status = 'online' and id <> ${deviceId}
    order by last_seen_at desc nulls last limit 5000`;
  return { target, online };
}

/** The devices of a site of the organization with the client each belongs to (for client scope); undefined when no such site. */
export async function siteDevices(
  sql: Sql,
  organizationId: string,
  siteId: string,
  max: number,
): Promise<{ clientId: string; ids: string[] } | undefined> {
  const [site] = await sql<{ clientId: string }[]>`
    select client_id as "clientId" from sites where id = ${siteId} and organization_id = ${organizationId}`;
  if (!site) return undefined;
  const rows = await sql<{ id: string }[]>`
    select id from devices where site_id = ${siteId} and organization_id = ${organizationId} order by hostname limit ${max}`;
  return { clientId: site.clientId, ids: rows.map((r) => r.id) };
}
