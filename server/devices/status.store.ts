import type { Sql } from "postgres";
import type { DeviceStatus } from "./store.ts";

export interface StatusChange {
  id: string;
  organizationId: string;
  hostname: string;
  previous: DeviceStatus;
  status: DeviceStatus;
}

export interface StatusWindows {
  /** Max telemetry age for "online", seconds. */
  onlineWindowS: number;
  /** Silence before "offline", seconds. */
  offlineAfterS: number;
  /** A node whose heartbeat is older than this no longer holds sockets, seconds. */
  nodeStaleS: number;
}

/**
 * Which devices a status pass looks at: given ids, every device (`"all"`), or (`{ recentS }`) those time
 * can have moved since the last few passes: whose telemetry went quiet within the last `recentS` seconds
 * of the online window (online → unresponsive), or whose last contact, telemetry or other, did so of the
 * offline window (→ offline). Time moves devices only down, through those two doors; every other change
 * has its own writer (a socket opened or closed, a beacon, a telemetry flush), so a recent pass finds
 * what an all-device pass would, barring rows it skipped as locked and flips a flush left to the sweep,
 * which the next all-device pass puts right.
 */
export type StatusScope = string[] | "all" | { recentS: number };

/**
 * How far device_latest.sort_seen (refreshed by a flush once 30 s old, migration 00049) may trail seen_at
 * for a device whose telemetry arrives at least every 60 s; a device with a longer interval that goes
 * quiet is found by the next full sweep.
 */
const SORT_COPY_LAG_S = 90;

/** Devices whose telemetry contact fell `windowS` seconds behind within the last `recentS` seconds. */
const telemetryAged = (sql: Sql, windowS: number, recentS: number) => sql`
  select device_id from device_latest
  where sort_seen > now() - make_interval(secs => ${windowS + recentS + SORT_COPY_LAG_S})
    and sort_seen <= now() - make_interval(secs => ${windowS})
    and seen_at > now() - make_interval(secs => ${windowS + recentS})
    and seen_at <= now() - make_interval(secs => ${windowS})`;

/**
 * Recomputes device status from facts in the database (socket held by a live node, telemetry age,
 * last contact) and writes the changes; rows another sweep holds are skipped. `scope`: which devices are
 * looked at. With `keepOnline` (the reconnect window after a server start), an online device whose
 * socket is not back yet stays online while its contact is recent.
 */
export async function updateStatuses(sql: Sql, w: StatusWindows, scope: StatusScope = "all", keepOnline = false): Promise<StatusChange[]> {
  const only = Array.isArray(scope)
    ? sql`and d.id = any(${scope}::uuid[])`
    : scope === "all"
      ? sql``
      : // each found through an index: telemetry contact through device_latest_seen (skip-scanned past its
        // organization column), whose sort_seen lags seen_at by at most SORT_COPY_LAG_S while telemetry
        // flows, then checked on seen_at itself; other contact through devices_last_seen
        sql`and d.id in (
          ${telemetryAged(sql, w.onlineWindowS, scope.recentS)}
          union
          ${telemetryAged(sql, w.offlineAfterS, scope.recentS)}
          union
          select id from devices
          where last_seen_at > now() - make_interval(secs => ${w.offlineAfterS + scope.recentS})
            and last_seen_at <= now() - make_interval(secs => ${w.offlineAfterS}))`;
  // one pass over the devices that keeps only those whose status changes (a steady fleet: none), so
  // a sweep of 100,000 devices costs one scan and no 100,000-row intermediate result
  return sql<StatusChange[]>`
    with live as materialized (
      select id from server_nodes where heartbeat_at > now() - make_interval(secs => ${w.nodeStaleS})
    ), computed as (
      select d.id, n.status
      from devices d
      left join device_latest l on l.device_id = d.id
      cross join lateral (select d.ws_node is not null and exists (select 1 from live where live.id = d.ws_node) as held) h
      cross join lateral (select case
          when h.held and l.time > now() - make_interval(secs => ${w.onlineWindowS}) then 'online'
          when ${keepOnline} and not h.held and d.status = 'online' and greatest(d.last_seen_at, l.seen_at) > now() - make_interval(secs => ${w.offlineAfterS}) then 'online'
          when greatest(d.last_seen_at, l.seen_at) > now() - make_interval(secs => ${w.offlineAfterS}) then 'unresponsive'
          else 'offline'
        end as status) n
      where d.status <> n.status ${only}
    ), locked as (
      select d.id, d.status as previous from devices d join computed c on c.id = d.id
      where d.status <> c.status for update of d skip locked
    )
    update devices d set status = c.status, status_changed_at = now()
    from computed c join locked l on l.id = c.id
    where d.id = c.id
    returning d.id, d.organization_id as "organizationId", d.hostname, l.previous, d.status`;
}

/**
 * Sockets just opened on this node, in one statement: each device's socket is held here and counts as
 * contact, and its status becomes what the sweep would make it now (online when its telemetry is recent,
 * else unresponsive), so a connect storm leaves no flips for the sweep to write. Returns each device's
 * last stored batch sequence (for its welcome) and the status changes.
 */
export async function holdSockets(
  sql: Sql,
  deviceIds: string[],
  nodeId: string,
  onlineWindowS: number,
): Promise<{ marks: Map<string, number>; changes: StatusChange[] }> {
  // rows locked in id order first, as telemetry flushes lock them: no deadlock between the two
  const rows = await sql<(StatusChange & { seq: string })[]>`
    with locked as (
      select d.id, d.status as previous, coalesce(l.batch_seq, d.last_batch_seq) as seq,
        case when l.time > now() - make_interval(secs => ${onlineWindowS}) then 'online' else 'unresponsive' end as status
      from devices d left join device_latest l on l.device_id = d.id
      where d.id = any(${deviceIds}::uuid[]) order by d.id for no key update of d
    )
    update devices d set ws_node = ${nodeId}, last_seen_at = now(), status = l.status,
      status_changed_at = case when l.status <> l.previous then now() else d.status_changed_at end
    from locked l where d.id = l.id
    returning d.id, l.seq, d.organization_id as "organizationId", d.hostname, l.previous, d.status`;
  return {
    marks: new Map(rows.map((r) => [r.id, Number(r.seq)])),
    changes: rows.filter((r) => r.status !== r.previous).map(({ seq: _, ...c }) => c),
  };
}

/** Sockets closed on this node, in one statement: released where this node still holds them. */
export async function releaseSocketsOf(sql: Sql, deviceIds: string[], nodeId: string): Promise<void> {
  await sql`
    with locked as (select id from devices where id = any(${deviceIds}::uuid[]) and ws_node = ${nodeId} order by id for no key update)
    update devices d set ws_node = null from locked where d.id = locked.id and d.ws_node = ${nodeId}`;
}

/** The node is going away: no device's socket is held by it any more. */
export async function releaseSockets(sql: Sql, nodeId: string): Promise<void> {
  await sql`update devices set ws_node = null where ws_node = ${nodeId}`;
}
