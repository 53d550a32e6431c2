import type { Sql } from "postgres";

/**
 * Accepts a beacon timestamp only if it is newer than the last accepted one (replay protection
 * that holds across server nodes and restarts) and records the contact.
 */
export async function acceptBeacon(sql: Sql, deviceId: string, timestampMs: number): Promise<{ ackedSeq: number } | undefined> {
  const [row] = await sql<{ seq: string }[]>`
    update devices d set last_beacon_ts = ${timestampMs}, last_seen_at = now()
    where d.id = ${deviceId} and d.last_beacon_ts < ${timestampMs}
    returning coalesce((select l.batch_seq from device_latest l where l.device_id = d.id), d.last_batch_seq) as seq`;
  return row ? { ackedSeq: Number(row.seq) } : undefined;
}
