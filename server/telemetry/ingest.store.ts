import type { Sql } from "postgres";

/** One flush's batches, in order, and the accepted-or-not samples of them (see `telemetry_flush`, migration 00044). */
export interface FlushInput {
  /** The flush's devices, distinct. */
  devices: string[];
  /** Per batch: its device's position in `devices` (0-based). */
  batchDevice: number[];
  batchSeq: number[];
  /** Per batch: the lowest refused sequence of its device, or null. */
  batchGap: (number | null)[];
  /** The samples as a JSON array of objects: `b` (the batch's position, 1-based) and the columns. */
  rows: string;
  /** ISO time: samples older are recorded for the native rollup job; null: not recorded. */
  lateBefore: string | null;
}

export type Verdict = "stored" | "replay" | "held";
const VERDICTS: Verdict[] = ["replay", "stored", "held"];

/**
 * One telemetry flush in one statement and one round trip (its own transaction): the devices' batch
 * marks are locked in id order, each batch judged against them, the accepted rows written with the
 * marks, last contacts and latest-state rows. Returns a verdict per batch and each device's mark after
 * the flush (absent: unknown device).
 */
export async function commitFlush(sql: Sql, f: FlushInput): Promise<{ verdicts: Verdict[]; marks: Map<string, number> }> {
  const [row] = await sql<{ verdicts: number[]; marks: (string | null)[] }[]>`
    select verdicts, marks from telemetry_flush(${f.devices}::uuid[], ${f.batchDevice.map((d) => d + 1)}::int[],
      ${f.batchSeq}::bigint[], ${f.batchGap}::bigint[], ${f.rows}::text::json, ${f.lateBefore}::timestamptz)`;
  const marks = new Map<string, number>();
  f.devices.forEach((id, i) => {
    const m = row?.marks[i];
    if (m !== null && m !== undefined) marks.set(id, Number(m));
  });
  return { verdicts: f.batchSeq.map((_, i) => VERDICTS[row?.verdicts[i] ?? 0] ?? "replay"), marks };
}
