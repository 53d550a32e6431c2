import type { Sql } from "postgres";
import { advanceBatchMarks, lockBatchMarks } from "../devices/contact.store.ts";
import { TELEMETRY_COLUMNS } from "./rows.ts";

/** What a flush decided once it saw the devices' committed batch marks. */
export interface FlushDecision {
  /** Rows copied optimistically that turned out to be replays (or of unknown devices): taken back out. */
  undo: { deviceId: string; seq: number; from: string; to: string }[];
  /** Every locked device's batch mark, moved forward where a batch was accepted. */
  marks: Map<string, number>;
  /** The latest sample time (ISO) per device that had a batch accepted. */
  latest: Map<string, string>;
  /** Device and hour start (ISO) of accepted late samples, sorted (no deadlock between flushes). */
  lateHours: [deviceId: string, hour: string][];
}

/**
 * One telemetry flush in one transaction: the rows go in with one `COPY` (before any lock, so
 * overlapping flushes copy in parallel); once `earlier` resolves (the previous flush holds its row
 * locks) the devices' batch marks are read under lock and `locked()` is called; `decide` judges
 * each batch against them; replayed rows are taken back out, the marks and last-seen times move
 * forward, and the hours of late samples are recorded for the native rollup job.
 */
export async function commitFlush(
  sql: Sql,
  f: {
    copy: string;
    deviceIds: string[];
    earlier: Promise<void>;
    locked: () => void;
    decide: (marks: Map<string, number>) => FlushDecision;
  },
): Promise<void> {
  await sql.begin(async (t) => {
    const tx = t as unknown as Sql;
    if (f.copy.length > 0) {
      const writable = await tx`copy device_telemetry (${tx([...TELEMETRY_COLUMNS])}) from stdin`.writable();
      await new Promise<void>((resolve, reject) => {
        writable.on("error", reject);
        writable.on("finish", resolve);
        writable.end(f.copy);
      });
    }
    await f.earlier;
    let marks: Map<string, number>;
    try {
      marks = await lockBatchMarks(tx, f.deviceIds);
    } finally {
      f.locked();
    }
    const d = f.decide(marks);
    if (d.undo.length > 0) {
      await tx`
        delete from device_telemetry t
        using unnest(${d.undo.map((u) => u.deviceId)}::uuid[], ${d.undo.map((u) => u.seq)}::bigint[],
                     ${d.undo.map((u) => u.from)}::timestamptz[], ${d.undo.map((u) => u.to)}::timestamptz[]) as v(d, s, f, e)
        where t.device_id = v.d and t.batch_seq = v.s and t.time between v.f and v.e
          and t.xmin::text::bigint = txid_current() % 4294967296 -- only rows this transaction wrote
      `;
    }
    await advanceBatchMarks(tx, d.marks, d.latest);
    if (d.lateHours.length > 0) {
      await tx`
        insert into telemetry_rollup_pending (device_id, bucket)
        select * from unnest(${d.lateHours.map((k) => k[0])}::uuid[], ${d.lateHours.map((k) => k[1])}::timestamptz[])
        on conflict do nothing`;
    }
  });
}
