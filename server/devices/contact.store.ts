import type { Sql } from "postgres";

/**
 * Accepts a beacon timestamp only if it is newer than the last accepted one (replay protection
 * that holds across server nodes and restarts) and records the contact.
 */
export async function acceptBeacon(sql: Sql, deviceId: string, timestampMs: number): Promise<{ ackedSeq: number } | undefined> {
  const [row] = await sql<{ seq: string }[]>`
    update devices set last_beacon_ts = ${timestampMs}, last_seen_at = now()
    where id = ${deviceId} and last_beacon_ts < ${timestampMs}
    returning last_batch_seq as seq`;
  return row ? { ackedSeq: Number(row.seq) } : undefined;
}

/**
 * Inside a telemetry flush: the devices' batch high-water marks, their rows locked (in id order, so
 * overlapping flushes do not deadlock) until the flush commits. Unknown devices are absent.
 */
export async function lockBatchMarks(sql: Sql, deviceIds: string[]): Promise<Map<string, number>> {
  const marks = new Map<string, number>();
  for (const r of await sql<{ id: string; seq: string }[]>`
    select id, last_batch_seq as seq from devices where id = any(${deviceIds}::uuid[]) order by id for no key update`) {
    marks.set(r.id, Number(r.seq));
  }
  return marks;
}

/**
 * Inside a telemetry flush: moves the devices' batch marks forward, their latest sample time
 * (ISO, when a batch brought one) and their last contact.
 */
export async function advanceBatchMarks(sql: Sql, marks: Map<string, number>, latest: Map<string, string>): Promise<void> {
  const ids = [...marks.keys()];
  await sql`
    update devices d set last_batch_seq = v.seq,
      last_telemetry_at = greatest(d.last_telemetry_at, v.t),
      last_seen_at = now()
    from unnest(${ids}::uuid[], ${ids.map((id) => marks.get(id) ?? 0)}::bigint[],
                ${ids.map((id) => latest.get(id) ?? null)}::timestamptz[]) as v(id, seq, t)
    where d.id = v.id`;
}
