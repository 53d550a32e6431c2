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
  /** The newest accepted sample's summary per device, for its latest-state row (the device list). */
  latestState: LatestState[];
  /** Device and hour start (ISO) of accepted late samples, sorted (no deadlock between flushes). */
  lateHours: [deviceId: string, hour: string][];
}

/** A device's row in `device_latest`: what the device list shows and sorts by. */
export interface LatestState {
  deviceId: string;
  organizationId: string;
  /** ISO time of the sample. */
  time: string;
  cpuPercent: number;
  memoryPercent: number;
  diskPercent: number;
  swapPercent: number;
  load1: number;
  networkRxBps: number;
  networkTxBps: number;
  uptimeSeconds: number;
}

/**
 * Inside a telemetry flush: upserts the devices' latest-state rows (in device id order, as the device
 * rows were locked); an older sample (a late spool) leaves the stored one. `seen_at` is the
 * transaction's time, the same `now()` the device's last contact gets.
 */
function upsertLatest(tx: Sql, rows: LatestState[]) {
  const r = [...rows].sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1));
  return tx`
    insert into device_latest (device_id, organization_id, time, seen_at, cpu_percent, memory_percent, disk_percent,
      swap_percent, load1, network_rx_bps, network_tx_bps, uptime_seconds)
    select v.d, v.o, v.t, now(), v.c, v.m, v.k, v.s, v.l, v.rx, v.tx, v.u
    from unnest(${r.map((x) => x.deviceId)}::uuid[], ${r.map((x) => x.organizationId)}::uuid[],
      ${r.map((x) => x.time)}::timestamptz[], ${r.map((x) => x.cpuPercent)}::real[], ${r.map((x) => x.memoryPercent)}::real[],
      ${r.map((x) => x.diskPercent)}::real[], ${r.map((x) => x.swapPercent)}::real[], ${r.map((x) => x.load1)}::real[],
      ${r.map((x) => x.networkRxBps)}::float8[], ${r.map((x) => x.networkTxBps)}::float8[],
      ${r.map((x) => x.uptimeSeconds)}::bigint[]) as v(d, o, t, c, m, k, s, l, rx, tx, u)
    on conflict (device_id) do update set seen_at = excluded.seen_at,
      time = case when excluded.time >= device_latest.time then excluded.time else device_latest.time end,
      cpu_percent = case when excluded.time >= device_latest.time then excluded.cpu_percent else device_latest.cpu_percent end,
      memory_percent = case when excluded.time >= device_latest.time then excluded.memory_percent else device_latest.memory_percent end,
      disk_percent = case when excluded.time >= device_latest.time then excluded.disk_percent else device_latest.disk_percent end,
      swap_percent = case when excluded.time >= device_latest.time then excluded.swap_percent else device_latest.swap_percent end,
      load1 = case when excluded.time >= device_latest.time then excluded.load1 else device_latest.load1 end,
      network_rx_bps = case when excluded.time >= device_latest.time then excluded.network_rx_bps else device_latest.network_rx_bps end,
      network_tx_bps = case when excluded.time >= device_latest.time then excluded.network_tx_bps else device_latest.network_tx_bps end,
      uptime_seconds = case when excluded.time >= device_latest.time then excluded.uptime_seconds else device_latest.uptime_seconds end`;
}

/**
 * One telemetry flush in one transaction: the rows go in with one `COPY` (before any lock, so
 * overlapping flushes copy in parallel); once `earlier` resolves (the previous flush holds its row
 * locks) the devices' batch marks are read under lock and `locked()` is called; `decide` judges
 * each batch against them; replayed rows are taken back out, the marks and last-seen times move
 * forward with each device's latest-state row, and the hours of late samples are recorded for the native rollup job.
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
    // pipelined on the transaction's connection: one round trip for both
    await Promise.all([advanceBatchMarks(tx, d.marks, d.latest), d.latestState.length > 0 ? upsertLatest(tx, d.latestState) : undefined]);
    if (d.lateHours.length > 0) {
      await tx`
        insert into telemetry_rollup_pending (device_id, bucket)
        select * from unnest(${d.lateHours.map((k) => k[0])}::uuid[], ${d.lateHours.map((k) => k[1])}::timestamptz[])
        on conflict do nothing`;
    }
  });
}
