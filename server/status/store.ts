import type { Sql } from "postgres";
import { type AlertChange, openAlerts, resolveAlerts } from "../alerts/store.ts";
import {
  type StatusChange,
  type StatusScope,
  type StatusWindows,
  holdSockets,
  releaseSockets,
  updateStatuses,
} from "../devices/status.store.ts";

export interface OfflineAlert extends AlertChange {
  resolved: boolean;
}

/**
 * Recomputes device status, raises a critical `offline` alert for each device that went offline
 * and resolves it for each that came back — all in one transaction. `scope` and `keepOnline`: see
 * `updateStatuses`.
 */
export async function sweepStatus(
  sql: Sql,
  w: StatusWindows,
  scope: StatusScope,
  keepOnline = false,
): Promise<{ changes: StatusChange[]; alerts: OfflineAlert[] }> {
  return sql.begin(async (t) => {
    const tx = t as unknown as Sql;
    // a full sweep scans every device: on one core, not with parallel workers started every two seconds
    if (scope === "all") await tx`set local max_parallel_workers_per_gather = 0`;
    const changes = await updateStatuses(tx, w, scope, keepOnline);
    const wentOffline = changes.filter((c) => c.status === "offline");
    const cameBack = changes.filter((c) => c.previous === "offline");
    const alerts: OfflineAlert[] = [];
    const raised = await openAlerts(
      tx,
      wentOffline.map((c) => ({
        organizationId: c.organizationId,
        deviceId: c.id,
        ruleId: null,
        type: "offline",
        severity: "critical",
        message: `Device ${c.hostname} is offline: no contact for ${w.offlineAfterS} s`,
      })),
    );
    alerts.push(...raised.map((a) => ({ ...a, resolved: false })));
    if (cameBack.length > 0) {
      const resolved = await resolveAlerts(tx, { type: "offline", deviceIds: cameBack.map((c) => c.id) });
      alerts.push(...resolved.map((a) => ({ ...a, resolved: true })));
    }
    return { changes, alerts };
  });
}

/**
 * Sockets opened on this node, in one transaction: held here, each device's status set from its facts
 * (`holdSockets`), and the offline alerts of devices that came back resolved. Returns each device's last
 * stored batch sequence, the status changes and the alerts resolved.
 */
export async function holdAndResolve(
  sql: Sql,
  w: StatusWindows,
  deviceIds: string[],
  nodeId: string,
): Promise<{ marks: Map<string, number>; changes: StatusChange[]; alerts: OfflineAlert[] }> {
  return sql.begin(async (t) => {
    const tx = t as unknown as Sql;
    const { marks, changes } = await holdSockets(tx, deviceIds, nodeId, w.onlineWindowS);
    const cameBack = changes.filter((c) => c.previous === "offline").map((c) => c.id);
    const alerts: OfflineAlert[] =
      cameBack.length > 0 ? (await resolveAlerts(tx, { type: "offline", deviceIds: cameBack })).map((a) => ({ ...a, resolved: true })) : [];
    return { marks, changes, alerts };
  });
}

export async function registerNode(sql: Sql, id: string, hostname: string): Promise<void> {
  await sql`insert into server_nodes (id, hostname) values (${id}, ${hostname})`;
}

export async function heartbeatNode(sql: Sql, id: string): Promise<void> {
  await sql`update server_nodes set heartbeat_at = now() where id = ${id}`;
  await sql`delete from server_nodes where heartbeat_at < now() - interval '1 day'`;
}

/** The node is going away: its sockets are gone. */
export async function releaseNode(sql: Sql, nodeId: string): Promise<void> {
  await releaseSockets(sql, nodeId);
  await sql`delete from server_nodes where id = ${nodeId}`;
}
