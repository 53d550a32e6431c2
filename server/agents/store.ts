import type { Sql } from "postgres";

/** Of these devices, those with commands waiting for delivery (one indexed read for a whole batch of hellos). */
export async function devicesWithPendingCommands(sql: Sql, deviceIds: string[]): Promise<string[]> {
  if (deviceIds.length === 0) return [];
  const rows = await sql<{ id: string }[]>`
    select distinct device_id as id from commands
    where device_id = any(${deviceIds}::uuid[]) and status in ('queued', 'sent', 'running') and expires_at > now()`;
  return rows.map((r) => r.id);
}
