import type { Sql } from "postgres";

/** Of these devices, those with commands waiting for delivery (one indexed read for a whole batch of hellos). */
export async function devicesWithPendingCommands(sql: Sql, deviceIds: string[]): Promise<string[]> {
  if (deviceIds.length === 0) return [];
  const rows = await sql<{ id: string }[]>`
    select distinct device_id as id from commands
    where device_id = any(${deviceIds}::uuid[]) and status in ('queued', 'sent', 'running') and expires_at > now()`;
  return rows.map((r) => r.id);
}

/** Devices in contact (socket, telemetry or beacon) within the last `minutes`: the fleet that comes back after a restart. */
export async function recentlySeenDevices(sql: Sql, minutes = 10): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from devices d left join device_latest l on l.device_id = d.id
    where greatest(d.last_seen_at, l.seen_at) > now() - make_interval(mins => ${minutes})`;
  return row?.n ?? 0;
}
