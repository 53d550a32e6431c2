import type { Sql } from "postgres";
import { fixedLimit, pageRows } from "../lib/limits.store.ts";
import type { Reach } from "../auth/permissions.ts";
import type { DeviceStatus } from "../protocol/statuses.ts";
import type { DeviceFacts } from "../protocol/telemetry.ts";
import { deleteDeviceTelemetry } from "../telemetry/store.ts";
import { inReach } from "./reach.store.ts";

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
  /** Only devices the caller reaches (a user or key limited to clients or groups); null or absent for all. */
  reach?: Reach | null | undefined;
}

/** The device's latest-state row (written by telemetry ingest) as the `telemetry` object, null before its first sample. */
const latestJson = (sql: Sql) => sql`
  case when l.device_id is null then null else json_build_object(
    'time', l.time, 'cpuPercent', l.cpu_percent, 'memoryPercent', l.memory_percent,
    'diskPercent', l.disk_percent, 'swapPercent', l.swap_percent, 'load1', l.load1,
    'networkRxBps', l.network_rx_bps, 'networkTxBps', l.network_tx_bps, 'uptimeSeconds', l.uptime_seconds
  ) end as telemetry`;

const summaryColumns = (sql: Sql) => sql`
  d.id, d.hostname, d.os, d.os_name as "osName", d.os_version as "osVersion", d.arch,
  d.agent_version as "agentVersion", d.status, d.last_seen_at as "lastSeenAt", d.site_id as "siteId",
  s.name as "siteName", c.name as "clientName", d.tags, ${latestJson(sql)}`;

/**
 * A list row's columns as the page query reads them: times as UTC timestamp text (no Date made and
 * serialised again), `uptime` as float8 (a bigint would arrive as a string).
 */
type ItemRow = Omit<DeviceSummary, "lastSeenAt" | "telemetry"> & {
  lastSeenAt: string | null;
  time: string | null;
  cpu: number;
  memory: number;
  disk: number;
  swap: number;
  load1: number;
  rx: number;
  tx: number;
  uptime: number;
};

/**
 * `timestamp` text in UTC as PostgreSQL prints it under DateStyle ISO (`2026-12-01 23:45:23.611234`,
 * fraction optional) → `Date.toISOString()` form, milliseconds truncated as PostgreSQL's own `MS` does.
 */
export function isoFromUtcText(t: string | null): string | null {
  if (t === null) return null;
  const frac = t.length > 20 ? t.slice(20, 23).padEnd(3, "0") : "000";
  return `${t.slice(0, 10)}T${t.slice(11, 19)}.${frac}Z`;
}

const str = JSON.stringify;
/** A number as JSON writes it (NaN and infinities, which a `real` column may hold, as null). */
const num = (n: number) => (Number.isFinite(n) ? String(n) : "null");

/**
 * A list row as JSON text (the `DeviceSummary` shape), written directly: the list's hot path hands
 * these strings straight to the response. Plain columns cost PostgreSQL about half of what
 * `json_build_object` does per page, and writing the text here costs less than building objects
 * for `JSON.stringify`.
 */
function itemText(r: ItemRow): string {
  const seen = isoFromUtcText(r.lastSeenAt);
  const telemetry =
    r.time === null
      ? "null"
      : `{"time":"${isoFromUtcText(r.time)}","cpuPercent":${num(r.cpu)},"memoryPercent":${num(r.memory)},"diskPercent":${num(r.disk)},"swapPercent":${num(r.swap)},"load1":${num(r.load1)},"networkRxBps":${num(r.rx)},"networkTxBps":${num(r.tx)},"uptimeSeconds":${num(r.uptime)}}`;
  return `{"id":${str(r.id)},"hostname":${str(r.hostname)},"os":${str(r.os)},"osName":${str(r.osName)},"osVersion":${str(r.osVersion)},"arch":${str(r.arch)},"agentVersion":${str(r.agentVersion)},"status":${str(r.status)},"lastSeenAt":${seen === null ? "null" : `"${seen}"`},"siteId":${str(r.siteId)},"siteName":${str(r.siteName)},"clientName":${str(r.clientName)},"tags":${str(r.tags)},"telemetry":${telemetry}}`;
}

/** `like` pattern for a search: a substring, case-insensitive (the text searched is lower-cased). */
const searchPattern = (q: string) => `%${q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;

/** The filter as SQL conditions on `d` (devices), each answered by an index. */
function where(sql: Sql, organizationId: string, f: DeviceListFilter) {
  return sql`
    d.organization_id = ${organizationId}
    ${f.status ? sql`and d.status = ${f.status}` : sql``}
    ${f.siteId ? sql`and d.site_id = ${f.siteId}` : sql``}
    ${inReach(sql, f.reach, { id: "d.id", siteId: "d.site_id" })}
    ${f.tag ? sql`and d.tags @> array[${f.tag}]::text[]` : sql``}
    ${f.os ? sql`and d.os = ${f.os}` : sql``}
    ${f.groupId ? sql`and exists (select 1 from device_group_members m where m.group_id = ${f.groupId} and m.device_id = d.id)` : sql``}
    ${f.q ? sql`and d.search_text like lower(${searchPattern(f.q)})` : sql``}`;
}

export type DeviceSort = "hostname" | "status" | "lastSeen" | "cpu" | "memory" | "disk";

/** The latest-state column a metric sort walks (its index is `(organization_id, column, device_id)`). */
const LATEST_COLUMN = { cpu: "cpu_percent", memory: "memory_percent", disk: "disk_percent", lastSeen: "seen_at" } as const;

/**
 * Where a page starts: the sort key of the last row seen (as text, exactly as PostgreSQL printed it)
 * and its id. Under a metric sort, `key: [null]` means the devices without telemetry, which come
 * after all others in id order.
 */
export interface PageAfter {
  key: (string | null)[];
  id: string;
}

export interface DevicePage {
  /** Each device as JSON text (the `DeviceSummary` shape, times as ISO strings). */
  items: string[];
  /** The last row's position, for the next page's cursor (undefined on an empty page). */
  last: PageAfter | undefined;
}

/** A page row's id and sort key (as PostgreSQL printed it; `_k2` the hostname under the status sort). */
type Key = { id: string; _k: string | null; _k2?: string };

/**
 * One page of the device list under any sort, keyset-paged on (sort key, id) so pages stay stable
 * while devices come and go. Every order is an index walk: hostname on `devices_organization`,
 * status on `devices_status_rank[_desc]`, a metric or last seen on `device_latest_*` and then the
 * devices without telemetry on `devices_organization_id`. `few` (the caller counted at most a
 * thousand matches) picks the matches first and sorts them, rather than walking a sort's index past
 * every device the filter leaves out.
 */
export async function listDevicePage(
  sql: Sql,
  organizationId: string,
  f: DeviceListFilter,
  page: { limit: number; sort: DeviceSort; desc: boolean; after?: PageAfter | undefined; few?: boolean },
): Promise<DevicePage> {
  const { limit, sort, desc, after } = page;
  const cmp = desc ? sql`<` : sql`>`;
  const dir = desc ? sql`desc` : sql`asc`;
  const rows = pageRows(sql, limit);
  // first the page's ids and sort keys (the filter's plan), then its rows' JSON by id (one plan for every page)
  let keys: Key[];
  if (sort === "hostname" || sort === "status") {
    const rank = desc ? sql`(2 - device_status_rank(d.status))` : sql`device_status_rank(d.status)`;
    const keyset =
      sort === "hostname"
        ? after
          ? sql`and (d.hostname, d.id) ${cmp} (${after.key[0] ?? ""}, ${after.id}::uuid)`
          : sql``
        : after
          ? sql`and (${rank}, d.hostname, d.id) > (${Number(after.key[0])}::int, ${after.key[1] ?? ""}, ${after.id}::uuid)`
          : sql``;
    const order = sort === "hostname" ? sql`d.hostname ${dir}, d.id ${dir}` : sql`${rank}, d.hostname, d.id`;
    const key = sort === "hostname" ? sql`d.hostname as "_k"` : sql`${rank}::text as "_k", d.hostname as "_k2"`;
    keys = page.few
      ? await sql<Key[]>`
        with m as materialized (select d.id from devices d where ${where(sql, organizationId, f)})
        select d.id, ${key} from m join devices d on d.id = m.id
        where true ${keyset}
        order by ${order} limit ${rows.limit}`
      : await sql<Key[]>`
        select d.id, ${key} from devices d
        where ${where(sql, organizationId, f)} ${keyset}
        order by ${order} limit ${rows.limit}`;
    keys = rows.take(keys);
  } else {
    const col = sql(`l.${LATEST_COLUMN[sort]}`);
    // the key's text form round-trips exactly as the column's own type (real; microseconds)
    // (sent as text: postgres.js would otherwise parse a timestamptz parameter into a Date, losing microseconds)
    const key = (v: string) => (sort === "lastSeen" ? sql`${v}::text::timestamptz` : sql`${v}::text::real`);
    keys = [];
    const keyset = after ? sql`and (${col}, l.device_id) ${cmp} (${key(after.key[0] ?? "")}, ${after.id}::uuid)` : sql``;
    if (!after || after.key[0] !== null) {
      keys = page.few
        ? await sql<Key[]>`
          with m as materialized (select d.id from devices d where ${where(sql, organizationId, f)})
          select l.device_id as id, ${col}::text as "_k"
          from m join device_latest l on l.device_id = m.id
          where true ${keyset}
          order by ${col} ${dir}, l.device_id ${dir} limit ${rows.limit}`
        : await sql<Key[]>`
          select l.device_id as id, ${col}::text as "_k"
          from device_latest l join devices d on d.id = l.device_id
          where l.organization_id = ${organizationId} and ${where(sql, organizationId, f)} ${keyset}
          order by ${col} ${dir}, l.device_id ${dir} limit ${rows.limit}`;
      keys = rows.take(keys);
    }
    if (keys.length < limit) {
      // then the devices that have not sent telemetry yet
      const nullAfter = after && after.key[0] === null ? after.id : undefined;
      const rest = await sql<Key[]>`
        select d.id, null as "_k" from devices d
        where ${where(sql, organizationId, f)}
          and not exists (select 1 from device_latest x where x.device_id = d.id)
          ${nullAfter ? sql`and d.id > ${nullAfter}::uuid` : sql``}
        order by d.id limit ${rows.limit}`;
      keys.push(...rest.slice(0, limit - keys.length));
    }
  }
  const lastKey = keys.at(-1);
  const last = lastKey ? { key: sort === "status" ? [lastKey._k, lastKey._k2 ?? ""] : [lastKey._k], id: lastKey.id } : undefined;
  if (keys.length === 0) return { items: [], last };
  const items = await sql<ItemRow[]>`
    select d.id, d.hostname, d.os, d.os_name as "osName", d.os_version as "osVersion", d.arch,
      d.agent_version as "agentVersion", d.status, (d.last_seen_at at time zone 'UTC')::text as "lastSeenAt", d.site_id as "siteId",
      s.name as "siteName", c.name as "clientName", d.tags,
      (l.time at time zone 'UTC')::text as time, l.cpu_percent as cpu, l.memory_percent as memory, l.disk_percent as disk, l.swap_percent as swap, l.load1,
      l.network_rx_bps as rx, l.network_tx_bps as tx, l.uptime_seconds::float8 as uptime
    from unnest(${keys.map((k) => k.id)}::uuid[]) with ordinality p(id, n)
      join devices d on d.id = p.id join sites s on s.id = d.site_id join clients c on c.id = s.client_id
      left join device_latest l on l.device_id = d.id
    where d.organization_id = ${organizationId}
    order by p.n`;
  return { items: items.map(itemText), last };
}

/** Devices matching the filter: all of them, or up to `cap` (one more tells whether there are more). */
export async function countDevices(
  sql: Sql,
  organizationId: string,
  f: DeviceListFilter,
  cap?: number,
): Promise<{ n: number; exact: boolean }> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from (
      select 1 from devices d where ${where(sql, organizationId, f)} ${cap === undefined ? sql`` : sql`limit ${fixedLimit(sql, cap + 1)}`}
    ) x`;
  const n = row?.n ?? 0;
  return cap !== undefined && n > cap ? { n: cap, exact: false } : { n, exact: true };
}

/**
 * Devices by hostname with an exact total (a group's member list): a page starts after the
 * (hostname, id) of the last row seen.
 */
export async function listDevices(
  sql: Sql,
  organizationId: string,
  f: DeviceListFilter,
  page: { limit: number; after?: { hostname: string; id: string } | undefined },
): Promise<{ items: DeviceSummary[]; total: number }> {
  const after = page.after ? { key: [page.after.hostname], id: page.after.id } : undefined;
  const [p, total] = await Promise.all([
    listDevicePage(sql, organizationId, f, { limit: page.limit, sort: "hostname", desc: false, after }),
    countDevices(sql, organizationId, f),
  ]);
  const items = p.items.map((text) => {
    const d = JSON.parse(text) as DeviceSummary & { lastSeenAt: string | null };
    return { ...d, lastSeenAt: d.lastSeenAt ? new Date(d.lastSeenAt) : null };
  });
  return { items, total: total.n };
}

/** Device counts per status for one organization (only the devices the caller reaches when `reach` is given). */
export async function statusCounts(sql: Sql, organizationId: string, reach: Reach | null = null): Promise<Record<DeviceStatus, number>> {
  const rows = await sql<{ status: DeviceStatus; n: number }[]>`
    select status, count(*)::int as n from devices where organization_id = ${organizationId}
    ${inReach(sql, reach, { id: "id", siteId: "site_id" })}
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
    left join device_latest l on l.device_id = d.id
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

/** Which of these device ids belong to the organization (and are in the caller's reach, when given). */
export async function devicesInOrganization(
  sql: Sql,
  organizationId: string,
  ids: string[],
  reach: Reach | null = null,
): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    select id from devices where organization_id = ${organizationId} and id = any(${ids}::uuid[])
    ${inReach(sql, reach, { id: "id", siteId: "site_id" })}`;
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
