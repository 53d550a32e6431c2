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
 * Recomputes device status from facts in the database (socket held by a live node, telemetry age,
 * last contact) and writes the changes; rows another sweep holds are skipped. With `deviceIds`,
 * only those devices are looked at. With `keepOnline` (the reconnect window after a server start),
 * an online device whose socket is not back yet stays online while its contact is recent.
 */
export async function updateStatuses(sql: Sql, w: StatusWindows, deviceIds?: string[], keepOnline = false): Promise<StatusChange[]> {
  return sql<StatusChange[]>`
    with computed as (
      select d.id,
        case
          when n.id is not null and d.last_telemetry_at > now() - make_interval(secs => ${w.onlineWindowS}) then 'online'
          when ${keepOnline} and n.id is null and d.status = 'online' and d.last_seen_at > now() - make_interval(secs => ${w.offlineAfterS}) then 'online'
          when d.last_seen_at > now() - make_interval(secs => ${w.offlineAfterS}) then 'unresponsive'
          else 'offline'
        end as status
      from devices d
      left join server_nodes n on n.id = d.ws_node and n.heartbeat_at > now() - make_interval(secs => ${w.nodeStaleS})
      ${deviceIds ? sql`where d.id = any(${deviceIds}::uuid[])` : sql``}
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
 * Sockets just opened on this node, in one statement: each device's socket is held here and counts
 * as contact; returns each device's last stored batch sequence (for its welcome).
 */
export async function holdSockets(sql: Sql, deviceIds: string[], nodeId: string): Promise<Map<string, number>> {
  // rows locked in id order first, as telemetry flushes lock them: no deadlock between the two
  const rows = await sql<{ id: string; seq: string }[]>`
    with locked as (select id from devices where id = any(${deviceIds}::uuid[]) order by id for no key update)
    update devices d set ws_node = ${nodeId}, last_seen_at = now() from locked where d.id = locked.id
    returning d.id, d.last_batch_seq as seq`;
  return new Map(rows.map((r) => [r.id, Number(r.seq)]));
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
