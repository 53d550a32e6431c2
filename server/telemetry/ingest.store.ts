import type { Sql } from "postgres";
import { TELEMETRY_COLUMNS } from "./rows.ts";

/** One flush's batches, in order, and the accepted-or-not samples of them (see `telemetry_flush`, migrations 00044, 00045 and 00047). */
export interface FlushInput {
  /** The flush's devices, distinct. */
  devices: string[];
  /** Per batch: its device's position in `devices` (0-based). */
  batchDevice: number[];
  batchSeq: number[];
  /** Per batch: the lowest refused sequence of its device, or 0. */
  batchGap: number[];
  /**
   * The samples: a JSON array of objects (`b`, the batch's position, 1-based, and the columns), or for a
   * bulk flush COPY text lines (`b`, then TELEMETRY_COLUMNS), staged in the same transaction.
   */
  rows: { json: string } | { copy: string };
  /** ISO time: samples older are recorded for the native rollup job; null: not recorded. */
  lateBefore: string | null;
  /**
   * This node, and the online window's start (ISO time): an unresponsive device whose socket this node
   * holds goes online with its first accepted sample newer than that. Absent: no status is set.
   */
  online?: { nodeId: string; since: string };
}

/** Chance that a bulk flush truncates its session's stage first (its dead rows otherwise stay until then). */
const STAGE_TRUNCATE_CHANCE = 1 / 16;

export type Verdict = "stored" | "replay" | "held" | "busy";
const VERDICTS: Verdict[] = ["replay", "stored", "held", "busy"];

/**
 * One telemetry flush in one statement and one round trip (its own transaction): the devices' batch
 * marks are locked in id order (a row another transaction holds is skipped: its batches come back
 * `busy`), each batch judged against them, the accepted rows written with the marks, last contacts and
 * latest-state rows (and an unresponsive device held here set online, see `online`). Returns a verdict per
 * batch, each device's mark after the flush (absent: unknown or busy device) and the devices the flush
 * set online, with their hostnames.
 */
export async function commitFlush(
  sql: Sql,
  f: FlushInput,
): Promise<{ verdicts: Verdict[]; marks: Map<string, number>; wentOnline: Map<string, string> }> {
  const call = (tx: Sql, json: string | null) => tx<
    { verdicts: number[]; marks: (string | null)[]; online: number[]; hostnames: string[] }[]
  >`
    select verdicts, marks, online, online_hostnames as hostnames from telemetry_flush(${f.devices}::uuid[], ${f.batchDevice.map((d) => d + 1)}::int[],
      ${f.batchSeq}::bigint[], ${f.batchGap}::bigint[], ${json}::text::json, ${f.lateBefore}::timestamptz,
      ${f.online?.nodeId ?? null}::uuid, ${f.online?.since ?? null}::timestamptz)`;
  const rows = f.rows;
  const [row] =
    "json" in rows
      ? await call(sql, rows.json)
      : await sql.begin(async (t) => {
          // a bulk flush: COPY into this session's stage, then the same statement reads it and deletes
          // what it read. Not `on commit delete rows`: that truncates the table's file at every commit,
          // and on ext4 a truncation waits for the journal, which the WAL's syncs keep busy (19,000 agents:
          // a quarter of PostgreSQL's samples in the 20–30 s of the connect storm were commits waiting on
          // IO:DataFileTruncate). Deleted rows leave dead space behind, so now and then the stage is
          // truncated before use (a session's stage holds a few flushes' dead rows on average).
          const tx = t as unknown as Sql;
          await tx`create temporary table if not exists telemetry_stage (b int, like device_telemetry) on commit preserve rows`;
          if (Math.random() < STAGE_TRUNCATE_CHANCE) await tx`truncate telemetry_stage`;
          const writable = await tx`copy telemetry_stage (b, ${tx([...TELEMETRY_COLUMNS])}) from stdin`.writable();
          await new Promise<void>((resolve, reject) => {
            writable.on("error", reject);
            writable.on("finish", resolve);
            writable.end(rows.copy);
          });
          return call(tx, null);
        });
  const marks = new Map<string, number>();
  const wentOnline = new Map<string, string>();
  f.devices.forEach((id, i) => {
    const m = row?.marks[i];
    if (m !== null && m !== undefined) marks.set(id, Number(m));
  });
  row?.online.forEach((position, i) => {
    const id = f.devices[position - 1];
    if (id) wentOnline.set(id, row.hostnames[i] ?? "");
  });
  return { verdicts: f.batchSeq.map((_, i) => VERDICTS[row?.verdicts[i] ?? 0] ?? "replay"), marks, wentOnline };
}
