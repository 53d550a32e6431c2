import type { Sql } from "postgres";
import type { DeviceStatus } from "../protocol/statuses.ts";
import type { DeviceFacts } from "../protocol/telemetry.ts";
import { deleteDeviceTelemetry } from "../telemetry/store.ts";

export type { DeviceStatus };

interface LatestTelemetry {
  time: Date;
  cpuPercent: number;
  memoryPercent: number;
  diskPercent: number;
  swapPercent: number;
  load1: number;
  networkRxBps: number;
  networkTxBps: number;
  uptimeSeconds: number;
}

export interface DeviceSummary {
  id: string;
  hostname: string;
  os: string;
  osName: string;
  osVersion: string;
  arch: string;
  agentVersion: string;
  status: DeviceStatus;
  lastSeenAt: Date | null;
  siteId: string;
  siteName: string;
  clientName: string;
  tags: string[];
  telemetry: LatestTelemetry | null;
}

export interface DeviceDetail extends DeviceSummary {
  serialNumber: string;
  kernel: string;
  cpuModel: string;
  cpuCores: number;
  memoryTotalBytes: number;
  nics: DeviceFacts["nics"];
  disks: DeviceFacts["disks"];
  statusChangedAt: Date;
  createdAt: Date;
}

export interface DeviceListFilter {
  status?: DeviceStatus | undefined;
  q?: string | undefined;
  siteId?: string | undefined;
  tag?: string | undefined;
  os?: string | undefined;
  /** Members of this smart group (server/groups). */
  groupId?: string | undefined;
  /** Only devices of these clients (a client-scoped user); null or absent for every client. */
  clientIds?: readonly string[] | null | undefined;
}

const latest = (sql: Sql) => sql`
  left join lateral (
    select json_build_object(
      'time', t.time, 'cpuPercent', t.cpu_percent, 'memoryPercent', t.memory_percent,
      'diskPercent', t.disk_percent, 'swapPercent', t.swap_percent, 'load1', t.load1,
      'networkRxBps', t.network_rx_bps, 'networkTxBps', t.network_tx_bps, 'uptimeSeconds', t.uptime_seconds
    ) as telemetry
    from device_telemetry t where t.device_id = d.id order by t.time desc limit 1
  ) lt on true`;

const summaryColumns = (sql: Sql) => sql`
  d.id, d.hostname, d.os, d.os_name as "osName", d.os_version as "osVersion", d.arch,
  d.agent_version as "agentVersion", d.status, d.last_seen_at as "lastSeenAt", d.site_id as "siteId",
  s.name as "siteName", c.name as "clientName", d.tags, lt.telemetry`;

function where(sql: Sql, organizationId: string, f: DeviceListFilter) {
  const like = f.q ? `%${f.q.replace(/[\\%_]/g, (m) => `\\${m}`)}%` : undefined;
  return sql`
    where d.organization_id = ${organizationId}
    ${f.status ? sql`and d.status = ${f.status}` : sql``}
    ${f.siteId ? sql`and d.site_id = ${f.siteId}` : sql``}
    ${f.clientIds ? sql`and d.site_id in (select id from sites where client_id = any(${[...f.clientIds]}::uuid[]))` : sql``}
    ${f.tag ? sql`and d.tags @> array[${f.tag}]::text[]` : sql``}
    ${f.os ? sql`and d.os = ${f.os}` : sql``}
    ${f.groupId ? sql`and exists (select 1 from device_group_members m where m.group_id = ${f.groupId} and m.device_id = d.id)` : sql``}
    ${like ? sql`and (d.hostname ilike ${like} or d.os_name ilike ${like} or d.serial_number ilike ${like} or array_to_string(d.tags, ' ') ilike ${like})` : sql``}`;
}

export type DeviceSort = "hostname" | "status" | "lastSeen" | "cpu" | "memory" | "disk";

/** ORDER BY for a sort key; "asc" puts problems first for status (offline, unresponsive, online). */
function orderBy(sql: Sql, sort: DeviceSort, desc: boolean) {
  const dir = desc ? sql`desc` : sql`asc`;
  const metric = (key: string) => sql`((lt.telemetry ->> ${key})::float8) ${dir} nulls last, d.hostname, d.id`;
  switch (sort) {
    case "status":
      return sql`(case d.status when 'offline' then 0 when 'unresponsive' then 1 else 2 end) ${dir}, d.hostname, d.id`;
    case "lastSeen":
      return sql`d.last_seen_at ${dir} nulls last, d.hostname, d.id`;
    case "cpu":
      return metric("cpuPercent");
    case "memory":
      return metric("memoryPercent");
    case "disk":
      return metric("diskPercent");
    default:
      return desc ? sql`d.hostname desc, d.id desc` : sql`d.hostname, d.id`;
  }
}

/**
 * One page of devices. By hostname (ascending) the page starts after `after`, the (hostname, id)
 * of the last row seen, which stays stable while devices come and go; other orders page by offset.
 */
export async function listDevices(
  sql: Sql,
  organizationId: string,
  f: DeviceListFilter,
  page: { limit: number; after?: { hostname: string; id: string } | undefined; offset?: number; sort?: DeviceSort; desc?: boolean },
): Promise<{ items: DeviceSummary[]; total: number }> {
  const sort = page.sort ?? "hostname";
  const keyset = sort === "hostname" && !page.desc;
  const order = orderBy(sql, sort, page.desc ?? false);
  const after = keyset && page.after ? sql`and (d.hostname, d.id) > (${page.after.hostname}, ${page.after.id})` : sql``;
  const limit = sql`limit ${page.limit} ${keyset ? sql`` : sql`offset ${page.offset ?? 0}`}`;
  // Sorted by a device column, the page's rows are picked first and only they get their latest
  // telemetry (a filter such as a large group's would otherwise join telemetry for every match).
  const byMetric = sort === "cpu" || sort === "memory" || sort === "disk";
  const [items, [count]] = await Promise.all([
    byMetric
      ? sql<DeviceSummary[]>`
      select ${summaryColumns(sql)}
      from devices d join sites s on s.id = d.site_id join clients c on c.id = s.client_id
      ${latest(sql)}
      ${where(sql, organizationId, f)} ${after}
      order by ${order} ${limit}`
      : sql<DeviceSummary[]>`
      select ${summaryColumns(sql)}
      from (select d.id from devices d ${where(sql, organizationId, f)} ${after} order by ${order} ${limit}) p
      join devices d on d.id = p.id join sites s on s.id = d.site_id join clients c on c.id = s.client_id
      ${latest(sql)}
      order by ${order}`,
    sql<{ n: number }[]>`select count(*)::int as n from devices d ${where(sql, organizationId, f)}`,
  ]);
  return { items, total: count?.n ?? 0 };
}

/** Device counts per status for one organization (only these clients' devices when `clientIds` is given). */
export async function statusCounts(
  sql: Sql,
  organizationId: string,
  clientIds: readonly string[] | null = null,
): Promise<Record<DeviceStatus, number>> {
  const rows = await sql<{ status: DeviceStatus; n: number }[]>`
    select status, count(*)::int as n from devices where organization_id = ${organizationId}
    ${clientIds ? sql`and site_id in (select id from sites where client_id = any(${[...clientIds]}::uuid[]))` : sql``}
    group by status`;
  const out: Record<DeviceStatus, number> = {
    online: 0,
    unresponsive: 0,
    offline: 0,
  };
  for (const r of rows) out[r.status] = r.n;
  return out;
}

export async function getDevice(sql: Sql, organizationId: string, id: string): Promise<DeviceDetail | undefined> {
  const [row] = await sql<DeviceDetail[]>`
    select ${summaryColumns(sql)}, d.serial_number as "serialNumber", d.kernel, d.cpu_model as "cpuModel",
           d.cpu_cores as "cpuCores", d.memory_total_bytes::float8 as "memoryTotalBytes", d.nics, d.disks,
           d.status_changed_at as "statusChangedAt", d.created_at as "createdAt"
    from devices d join sites s on s.id = d.site_id join clients c on c.id = s.client_id
    ${latest(sql)}
    where d.id = ${id} and d.organization_id = ${organizationId}`;
  return row;
}

/** The device's organization and client, or undefined when the id is unknown. */
export async function deviceOrganization(
  sql: Sql,
  id: string,
): Promise<{ organizationId: string; clientId: string; hostname: string } | undefined> {
  const [row] = await sql<{ organizationId: string; clientId: string; hostname: string }[]>`
    select d.organization_id as "organizationId", s.client_id as "clientId", d.hostname
    from devices d join sites s on s.id = d.site_id where d.id = ${id}`;
  return row;
}

/** Every device id of these clients of the organization (a client-scoped live feed's filter). */
export async function deviceIdsOfClients(sql: Sql, organizationId: string, clientIds: readonly string[]): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    select d.id from devices d join sites s on s.id = d.site_id
    where d.organization_id = ${organizationId} and s.client_id = any(${[...clientIds]}::uuid[])`;
  return rows.map((r) => r.id);
}

/** Which of these device ids belong to the organization (and to these clients, when given). */
export async function devicesInOrganization(
  sql: Sql,
  organizationId: string,
  ids: string[],
  clientIds: readonly string[] | null = null,
): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    select id from devices where organization_id = ${organizationId} and id = any(${ids}::uuid[])
    ${clientIds ? sql`and site_id in (select id from sites where client_id = any(${[...clientIds]}::uuid[]))` : sql``}`;
  return rows.map((r) => r.id);
}

export async function insertDevice(
  sql: Sql,
  d: {
    id: string;
    organizationId: string;
    siteId: string;
    enrollmentTokenId: string;
    agentVersion: string;
    facts: DeviceFacts;
    tags: string[];
    secretHash: Buffer;
  },
): Promise<void> {
  await sql`
    insert into devices (id, organization_id, site_id, enrollment_token_id, hostname, os, os_name, os_version, kernel, arch,
      agent_version, serial_number, cpu_model, cpu_cores, memory_total_bytes, nics, disks, tags, secret_hash)
    values (${d.id}, ${d.organizationId}, ${d.siteId}, ${d.enrollmentTokenId}, ${d.facts.hostname}, ${d.facts.os},
      ${d.facts.osName}, ${d.facts.osVersion}, ${d.facts.kernel}, ${d.facts.arch}, ${d.agentVersion},
      ${d.facts.serialNumber}, ${d.facts.cpuModel}, ${d.facts.cpuCores}, ${d.facts.memoryTotalBytes},
      ${sql.json(d.facts.nics as never)}, ${sql.json(d.facts.disks as never)}, ${d.tags}, ${d.secretHash})`;
}

/** Refreshes a device's facts from its hello frame. */
export async function updateFacts(sql: Sql, id: string, agentVersion: string, f: DeviceFacts): Promise<void> {
  await sql`
    update devices set hostname = ${f.hostname}, os = ${f.os}, os_name = ${f.osName}, os_version = ${f.osVersion},
      kernel = ${f.kernel}, arch = ${f.arch}, agent_version = ${agentVersion}, serial_number = ${f.serialNumber},
      cpu_model = ${f.cpuModel}, cpu_cores = ${f.cpuCores}, memory_total_bytes = ${f.memoryTotalBytes},
      nics = ${sql.json(f.nics as never)}, disks = ${sql.json(f.disks as never)}, updated_at = now()
    where id = ${id}`;
}

/** Deletes a device of this organization and its telemetry; false when there is none. */
export async function deleteDevice(sql: Sql, organizationId: string, id: string): Promise<boolean> {
  return sql.begin(async (tx) => {
    const rows = await tx`delete from devices where id = ${id} and organization_id = ${organizationId} returning id`;
    if (rows.count === 0) return false;
    await deleteDeviceTelemetry(tx as unknown as Sql, id);
    return true;
  });
}

/**
 * Moves a device to another site of its organization (checked by the caller) and/or replaces its
 * tags; the previous values, or undefined when the device is not the organization's.
 */
export async function updateDevicePlacement(
  sql: Sql,
  organizationId: string,
  id: string,
  change: { siteId?: string; tags?: string[] },
): Promise<{ siteId: string; tags: string[] } | undefined> {
  const [row] = await sql<{ siteId: string; tags: string[] }[]>`
    update devices d set site_id = coalesce(${change.siteId ?? null}::uuid, d.site_id), tags = coalesce(${change.tags ?? null}::text[], d.tags)
    from devices before
    where d.id = ${id} and d.organization_id = ${organizationId} and before.id = d.id
    returning before.site_id as "siteId", before.tags`;
  return row;
}
