import type { PendingQuery, Row, Sql } from "postgres";
import { countUpTo, pageRows } from "../lib/limits.store.ts";
import { isScoped, type Reach } from "../auth/permissions.ts";
import type { DeviceStatus } from "../protocol/statuses.ts";
import type { DeviceFacts } from "../protocol/telemetry.ts";
import { deleteDeviceTelemetry } from "../telemetry/store.ts";
import { JsonBytes, piece } from "./list-json.ts";
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
  d.agent_version as "agentVersion", d.status, greatest(d.last_seen_at, l.seen_at) as "lastSeenAt", d.site_id as "siteId",
  s.name as "siteName", c.name as "clientName", d.tags, ${latestJson(sql)}`;

/**
 * A list row's columns as the page query reads them (raw text bytes, in this order; `writeItem`
 * writes them as a `DeviceSummary`): times as UTC timestamp text, tags as JSON text.
 */
const rowColumns = (sql: Sql) => sql`
  d.id, d.hostname, d.os, d.os_name, d.os_version, d.arch, d.agent_version, d.status,
  (greatest(d.last_seen_at, l.seen_at) at time zone 'UTC')::text, d.site_id, s.name, c.name, array_to_json(d.tags)::text,
  (l.time at time zone 'UTC')::text, l.cpu_percent, l.memory_percent, l.disk_percent, l.swap_percent, l.load1,
  l.network_rx_bps, l.network_tx_bps, l.uptime_seconds`;

type RawRow = (Buffer | null)[];
/** Where a raw row's sort key follows its columns. */
const KEY = 22;

const P = {
  open: piece('{"id":'),
  hostname: piece(',"hostname":'),
  os: piece(',"os":'),
  osName: piece(',"osName":'),
  osVersion: piece(',"osVersion":'),
  arch: piece(',"arch":'),
  agentVersion: piece(',"agentVersion":'),
  status: piece(',"status":'),
  lastSeenAt: piece(',"lastSeenAt":'),
  siteId: piece(',"siteId":'),
  siteName: piece(',"siteName":'),
  clientName: piece(',"clientName":'),
  tags: piece(',"tags":'),
  noTelemetry: piece(',"telemetry":null}'),
  time: piece(',"telemetry":{"time":'),
  cpu: piece(',"cpuPercent":'),
  memory: piece(',"memoryPercent":'),
  disk: piece(',"diskPercent":'),
  swap: piece(',"swapPercent":'),
  load1: piece(',"load1":'),
  rx: piece(',"networkRxBps":'),
  tx: piece(',"networkTxBps":'),
  uptime: piece(',"uptimeSeconds":'),
  close: piece("}}"),
};

/**
 * One list row as JSON (the `DeviceSummary` shape), written from the column bytes as they came:
 * this is the list's hot path, and parsing 22 columns per row into strings and numbers to print
 * them again was most of the server's work for a page.
 */
function writeItem(w: JsonBytes, r: RawRow) {
  w.raw(P.open).str(r[0] ?? null);
  w.raw(P.hostname).str(r[1] ?? null);
  w.raw(P.os).str(r[2] ?? null);
  w.raw(P.osName).str(r[3] ?? null);
  w.raw(P.osVersion).str(r[4] ?? null);
  w.raw(P.arch).str(r[5] ?? null);
  w.raw(P.agentVersion).str(r[6] ?? null);
  w.raw(P.status).str(r[7] ?? null);
  w.raw(P.lastSeenAt).time(r[8] ?? null);
  w.raw(P.siteId).str(r[9] ?? null);
  w.raw(P.siteName).str(r[10] ?? null);
  w.raw(P.clientName).str(r[11] ?? null);
  w.raw(P.tags).raw(r[12] ?? EMPTY_TAGS); // array_to_json: JSON already
  const time = r[13] ?? null;
  if (time === null) {
    w.raw(P.noTelemetry);
    return;
  }
  w.raw(P.time).time(time);
  w.raw(P.cpu).num(r[14] ?? null);
  w.raw(P.memory).num(r[15] ?? null);
  w.raw(P.disk).num(r[16] ?? null);
  w.raw(P.swap).num(r[17] ?? null);
  w.raw(P.load1).num(r[18] ?? null);
  w.raw(P.rx).num(r[19] ?? null);
  w.raw(P.tx).num(r[20] ?? null);
  w.raw(P.uptime).num(r[21] ?? null);
  w.raw(P.close);
}
const EMPTY_TAGS = piece("[]");

/** `like` pattern for a search: a substring, case-insensitive (the text searched is lower-cased). */
const searchPattern = (q: string) => `%${q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;

/** A search's matches on `device_search` (`s`, migration 00043): the organization's rows whose text holds `q`. */
const searched = (sql: Sql, organizationId: string, q: string) =>
  sql`s.organization_id = ${organizationId} and s.search_text like lower(${searchPattern(q)})`;

/**
 * The filter as SQL conditions on `d` (devices). `organization` replaces the organization's condition
 * when a walk starts from another table (the latest-state row under a metric sort, `device_search`
 * under a search), which states it once. A search tests each walked row's text (`walk`: the walk's
 * order finds the page), or picks its matches first from `device_search` and its trigram index
 * (`pick`: a statement that gathers every match). `devices` has no trigram index of its own
 * (migration 00050): every status change wrote some forty trigram entries into it.
 */
function where(
  sql: Sql,
  organizationId: string,
  f: DeviceListFilter,
  organization = sql`d.organization_id = ${organizationId}`,
  search: "walk" | "pick" = "walk",
) {
  const q = !f.q
    ? sql``
    : search === "walk"
      ? sql`and d.search_text like lower(${searchPattern(f.q)})`
      : sql`and d.id in (select s.device_id from device_search s where ${searched(sql, organizationId, f.q)})`;
  return sql`
    ${organization}
    ${f.status ? sql`and d.status = ${f.status}` : sql``}
    ${f.siteId ? sql`and d.site_id = ${f.siteId}` : sql``}
    ${inReach(sql, f.reach, { id: "d.id", siteId: "d.site_id" })}
    ${f.tag ? sql`and d.tags @> array[${f.tag}]::text[]` : sql``}
    ${f.os ? sql`and d.os = ${f.os}` : sql``}
    ${f.groupId ? sql`and exists (select 1 from device_group_members m where m.group_id = ${f.groupId} and m.device_id = d.id)` : sql``}
    ${q}`;
}

export type DeviceSort = "hostname" | "status" | "lastSeen" | "cpu" | "memory" | "disk";

/**
 * The latest-state column a metric sort walks (its index is `(organization_id, column, device_id)`): a
 * copy of the figure that telemetry flushes refresh once it is 30 s old (migration 00049: the other
 * flushes then change no indexed column), so the order is that of figures at most 30 s plus one
 * telemetry interval old while each row shows its current ones.
 */
const LATEST_COLUMN = { cpu: "sort_cpu", memory: "sort_memory", disk: "sort_disk", lastSeen: "sort_seen" } as const;

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
  /** The page's devices as a JSON array (each the `DeviceSummary` shape, times as ISO strings). */
  json: Buffer;
  /** How many devices the array holds. */
  length: number;
  /** How many the walk found (more than `length` when some were deleted in between): a page as long as the limit may have a next. */
  walked: number;
  /** The last row's position, for the next page's cursor (undefined on an empty page). */
  last: PageAfter | undefined;
}

/** A page row's id and sort key (as PostgreSQL printed it; `_k2` the hostname under the status sort). */
type Key = { id: string; _k: string | null; _k2?: string };

/** Whether the filter leaves out any device of the organization. */
const narrows = (f: DeviceListFilter) =>
  Boolean(f.status || f.q || f.siteId || f.tag || f.os || f.groupId || (f.reach && isScoped(f.reach)));

/**
 * One page of the device list under any sort, keyset-paged on (sort key, id) so pages stay stable
 * while devices come and go. Every order is an index walk: hostname on `devices_organization`,
 * status on `devices_status_rank[_desc]`, a metric or last seen on `device_latest_*` and then the
 * devices without telemetry on `devices_organization_id`. `few` (the caller counted at most a
 * thousand matches) picks the matches first and sorts them, rather than walking a sort's index past
 * every device the filter leaves out.
 *
 * The whole fleet's page is one statement that walks the order and joins each row's site, client
 * and latest state (one plan for every page). Under a filter, first the page's ids (a plan made for
 * the filter's values: cheap on one table, costly on four), then its rows by primary key. Rows come
 * back raw and are written as JSON.
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
  const whole = !page.few && !narrows(f);
  // The organization as a sub-select: the planner cannot see its value, so every plan of the page (its
  // own and the generic one) estimates the same and PostgreSQL settles on the generic plan. Given
  // the value, it estimates a big organization's page cheaper than the generic plan whenever the
  // database holds several organizations, and plans all four tables again on every request.
  const orgOnce = sql`(select ${organizationId}::uuid)`;
  // The same for the cursor's values: seeing them, PostgreSQL re-plans every later page (1.4 ms of
  // planning, more than the walk) and, with stale statistics on the status rank (90,000 devices
  // turned unresponsive since the last analyze), estimated one row past the cursor and sorted all
  // 90,000 after a hash join: 500–970 ms a page. Hidden, every page runs the one index walk.
  const hidden = (x: PendingQuery<Row[]>) => sql`(select ${x})`;
  const joined = sql`join sites s on s.id = d.site_id join clients c on c.id = s.client_id`;
  // a row's columns, then its sort key (`_k`, and `_k2`: the hostname under the status sort)
  let walked: (RawRow | Key)[];
  if (sort === "hostname" || sort === "status") {
    const rank = desc ? sql`(2 - device_status_rank(d.status))` : sql`device_status_rank(d.status)`;
    // the cursor's values as sub-selects too on the whole fleet's page (see `orgOnce`, and `hidden`)
    const v = whole ? hidden : (x: PendingQuery<Row[]>) => x;
    const keyset =
      sort === "hostname"
        ? after
          ? sql`and (d.hostname, d.id) ${cmp} (${v(sql`${after.key[0] ?? ""}::text`)}, ${v(sql`${after.id}::uuid`)})`
          : sql``
        : after
          ? sql`and (${rank}, d.hostname, d.id) > (${v(sql`${Number(after.key[0])}::int`)}, ${v(sql`${after.key[1] ?? ""}::text`)}, ${v(sql`${after.id}::uuid`)})`
          : sql``;
    const order = sort === "hostname" ? sql`d.hostname ${dir}, d.id ${dir}` : sql`${rank}, d.hostname, d.id`;
    const key = sort === "hostname" ? sql`d.hostname as "_k"` : sql`${rank}::text as "_k", d.hostname as "_k2"`;
    walked = whole
      ? await sql`
        select ${rowColumns(sql)}, ${key}
        from devices d ${joined} left join device_latest l on l.device_id = d.id
        where d.organization_id = ${orgOnce} ${keyset}
        order by ${order} limit ${rows.limit}`.raw()
      : page.few
        ? await sql<Key[]>`
          with m as materialized (select d.id from devices d where ${where(sql, organizationId, f, undefined, "pick")})
          select d.id, ${key} from m join devices d on d.id = m.id
          where true ${keyset}
          order by ${order} limit ${rows.limit}`
        : f.q && sort === "hostname"
          ? // a search walks the hostnames on device_search, index-only (migration 00043); the
            // devices only for the matches (and the other filters)
            await sql<Key[]>`
          select s.device_id as id, s.hostname as "_k" from device_search s join devices d on d.id = s.device_id
          where ${searched(sql, organizationId, f.q)}
            and ${where(sql, organizationId, { ...f, q: undefined }, sql`d.organization_id = s.organization_id`)}
            ${after ? sql`and (s.hostname, s.device_id) ${cmp} (${after.key[0] ?? ""}, ${after.id}::uuid)` : sql``}
          order by s.hostname ${dir}, s.device_id ${dir} limit ${rows.limit}`
          : await sql<Key[]>`
          select d.id, ${key} from devices d
          where ${where(sql, organizationId, f)} ${keyset}
          order by ${order} limit ${rows.limit}`;
    walked = rows.take(walked);
  } else {
    const col = sql(`l.${LATEST_COLUMN[sort]}`);
    // the key's text form round-trips exactly as the column's own type (real; microseconds)
    // (sent as text: postgres.js would otherwise parse a timestamptz parameter into a Date, losing microseconds)
    const key = (v: string) => (sort === "lastSeen" ? sql`${v}::text::timestamptz` : sql`${v}::text::real`);
    walked = [];
    const v = whole ? hidden : (x: PendingQuery<Row[]>) => x;
    const keyset = after ? sql`and (${col}, l.device_id) ${cmp} (${v(key(after.key[0] ?? ""))}, ${v(sql`${after.id}::uuid`)})` : sql``;
    if (!after || after.key[0] !== null) {
      walked = whole
        ? // the page on the latest-state rows alone, then its devices
          await sql`
          select ${rowColumns(sql)}, k._k
          from (
            select l.device_id, ${col} as v, ${col}::text as _k from device_latest l
            where l.organization_id = ${orgOnce} ${keyset}
            order by ${col} ${dir}, l.device_id ${dir} limit ${rows.limit}
          ) k
          join devices d on d.id = k.device_id ${joined} join device_latest l on l.device_id = k.device_id
          order by k.v ${dir}, k.device_id ${dir}`.raw()
        : page.few
          ? await sql<Key[]>`
          with m as materialized (select d.id from devices d where ${where(sql, organizationId, f, undefined, "pick")})
          select l.device_id as id, ${col}::text as "_k"
          from m join device_latest l on l.device_id = m.id
          where true ${keyset}
          order by ${col} ${dir}, l.device_id ${dir} limit ${rows.limit}`
          : await sql<Key[]>`
          select l.device_id as id, ${col}::text as "_k"
          from device_latest l join devices d on d.id = l.device_id
          where ${where(sql, organizationId, f, sql`l.organization_id = ${organizationId} and d.organization_id = l.organization_id`)}
            ${keyset}
          order by ${col} ${dir}, l.device_id ${dir} limit ${rows.limit}`;
      walked = rows.take(walked);
    }
    if (walked.length < limit) {
      // then the devices that have not sent telemetry yet (rare: one statement, rows and all)
      const nullAfter = after && after.key[0] === null ? after.id : undefined;
      const rest: (RawRow | Key)[] = await sql`
        select ${rowColumns(sql)}, null as _k
        from devices d ${joined} left join device_latest l on l.device_id = d.id
        where ${where(sql, organizationId, f, undefined, "pick")} and l.device_id is null
          ${nullAfter ? sql`and d.id > ${nullAfter}::uuid` : sql``}
        order by d.id limit ${rows.limit}`.raw();
      walked.push(...rest.slice(0, limit - walked.length));
    }
  }
  // the ids walked under a filter: their rows by primary key (one plan for every page)
  const keyed = walked.filter((r): r is Key => !Array.isArray(r));
  const found =
    keyed.length === 0
      ? []
      : await sql`
        select ${rowColumns(sql)}
        from devices d ${joined} left join device_latest l on l.device_id = d.id
        where d.id = any(${keyed.map((k) => k.id)}::uuid[]) and d.organization_id = ${organizationId}`.raw();
  const byId = new Map(found.map((r) => [r[0]?.toString("latin1"), r]));
  const text = (b: Buffer | null | undefined) => (b ? b.toString("utf8") : null);
  const w = new JsonBytes().ascii("[");
  let n = 0;
  for (const r of walked) {
    const row = Array.isArray(r) ? r : byId.get(r.id);
    if (!row) continue; // deleted between the two statements
    if (n++ > 0) w.ascii(",");
    writeItem(w, row);
  }
  const end = walked.at(-1);
  const last =
    end === undefined
      ? undefined
      : Array.isArray(end)
        ? { key: sort === "status" ? [text(end[KEY]), text(end[KEY + 1]) ?? ""] : [text(end[KEY])], id: text(end[0]) ?? "" }
        : { key: sort === "status" ? [end._k, end._k2 ?? ""] : [end._k], id: end.id };
  return { json: w.ascii("]").bytes(), length: n, walked: walked.length, last };
}

/** Devices matching the filter: all of them, or up to `cap` (one more tells whether there are more). */
export async function countDevices(
  sql: Sql,
  organizationId: string,
  f: DeviceListFilter,
  cap?: number,
): Promise<{ n: number; exact: boolean }> {
  const rest = { ...f, q: undefined };
  // a search counts on device_search (narrow rows, mostly all-visible), and reads the devices only
  // when other filters need them
  const matches = !f.q
    ? sql`select 1 from devices d where ${where(sql, organizationId, f)}`
    : narrows(rest)
      ? sql`select 1 from device_search s join devices d on d.id = s.device_id
          where ${searched(sql, organizationId, f.q)} and ${where(sql, organizationId, rest, sql`d.organization_id = s.organization_id`)}`
      : sql`select 1 from device_search s where ${searched(sql, organizationId, f.q)}`;
  return countUpTo(sql, matches, cap);
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
  const items = (JSON.parse(p.json.toString("utf8")) as (DeviceSummary & { lastSeenAt: string | null })[]).map((d) => ({
    ...d,
    lastSeenAt: d.lastSeenAt ? new Date(d.lastSeenAt) : null,
  }));
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
