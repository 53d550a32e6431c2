import type { Sql } from "postgres";
import type { DeviceStatus } from "../devices/store.ts";

export interface StatusChange {
  id: string;
  organizationId: string;
  hostname: string;
  previous: DeviceStatus;
  status: DeviceStatus;
}

export interface OfflineAlert {
  id: string;
  organizationId: string;
  deviceId: string;
  severity: string;
  message: string;
  resolved: boolean;
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
 * last contact), writes the changes, raises a critical `offline` alert for each device that went
 * offline and resolves it for each that came back — all in one transaction. With `deviceId`,
 * only that device is looked at.
 */
export async function sweepStatus(
  sql: Sql,
  w: StatusWindows,
  deviceId?: string,
): Promise<{ changes: StatusChange[]; alerts: OfflineAlert[] }> {
  return sql.begin(async (tx) => {
    const changes = await tx<StatusChange[]>`
      with computed as (
        select d.id,
          case
            when n.id is not null and d.last_telemetry_at > now() - make_interval(secs => ${w.onlineWindowS}) then 'online'
            when d.last_seen_at > now() - make_interval(secs => ${w.offlineAfterS}) then 'unresponsive'
            else 'offline'
          end as status
        from devices d
        left join server_nodes n on n.id = d.ws_node and n.heartbeat_at > now() - make_interval(secs => ${w.nodeStaleS})
        ${deviceId ? tx`where d.id = ${deviceId}` : tx``}
      ), locked as (
        select d.id, d.status as previous from devices d join computed c on c.id = d.id
        where d.status <> c.status for update of d skip locked
      )
      update devices d set status = c.status, status_changed_at = now()
      from computed c join locked l on l.id = c.id
      where d.id = c.id
      returning d.id, d.organization_id as "organizationId", d.hostname, l.previous, d.status`;
    const wentOffline = changes.filter((c) => c.status === "offline");
    const cameBack = changes.filter((c) => c.previous === "offline");
    const alerts: OfflineAlert[] = [];
    if (wentOffline.length > 0) {
      alerts.push(
        ...(await tx<OfflineAlert[]>`
          insert into alerts (organization_id, device_id, type, severity, state, message)
          select v.org, v.id, 'offline', 'critical', 'firing', 'Device ' || v.hostname || ' is offline: no contact for ' || ${w.offlineAfterS} || ' s'
          from unnest(${wentOffline.map((c) => c.organizationId)}::uuid[], ${wentOffline.map((c) => c.id)}::uuid[],
                      ${wentOffline.map((c) => c.hostname)}::text[]) as v(org, id, hostname)
          on conflict (device_id, type) where state <> 'resolved' and rule_id is null do nothing
          returning id, organization_id as "organizationId", device_id as "deviceId", severity, message, false as resolved`),
      );
    }
    if (cameBack.length > 0) {
      alerts.push(
        ...(await tx<OfflineAlert[]>`
          update alerts set state = 'resolved', resolved_at = now()
          where type = 'offline' and state <> 'resolved' and device_id = any(${cameBack.map((c) => c.id)}::uuid[])
          returning id, organization_id as "organizationId", device_id as "deviceId", severity, message, true as resolved`),
      );
    }
    return { changes, alerts };
  });
}

export async function registerNode(sql: Sql, id: string, hostname: string): Promise<void> {
  await sql`insert into server_nodes (id, hostname) values (${id}, ${hostname})`;
}

export async function heartbeatNode(sql: Sql, id: string): Promise<void> {
  await sql`update server_nodes set heartbeat_at = now() where id = ${id}`;
  await sql`delete from server_nodes where heartbeat_at < now() - interval '1 day'`;
}

/** Marks the device's socket as held by this node (or by none) and counts it as contact. */
export async function setSocketNode(sql: Sql, deviceId: string, nodeId: string | null, onlyIfNode?: string): Promise<void> {
  if (nodeId) await sql`update devices set ws_node = ${nodeId}, last_seen_at = now() where id = ${deviceId}`;
  else await sql`update devices set ws_node = null where id = ${deviceId} and ws_node = ${onlyIfNode ?? null}`;
}

/** The node is going away: its sockets are gone. */
export async function releaseNode(sql: Sql, nodeId: string): Promise<void> {
  await sql`update devices set ws_node = null where ws_node = ${nodeId}`;
  await sql`delete from server_nodes where id = ${nodeId}`;
}
