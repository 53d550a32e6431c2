import type { Sql } from "postgres";
import type { EventBus, StoredSample } from "../events/bus.ts";
import { Histogram } from "../lib/histogram.ts";
import { log } from "../log.ts";
import type { TelemetryBatch } from "../protocol/frames.ts";
import type { TelemetrySample } from "../protocol/telemetry.ts";
import { type FlushDecision, type LatestState, commitFlush } from "./ingest.store.ts";
import { type SampleSummary, copyLine, summarize } from "./rows.ts";

/** Raw rows are kept 7 days: older samples (a long-offline spool) are acknowledged and dropped. */
const RETENTION_MS = 7 * 24 * 3600 * 1000;
/** Samples from a clock this far ahead are dropped rather than stored in the future. */
const FUTURE_SKEW_MS = 5 * 60 * 1000;
const HOUR_MS = 3600 * 1000;

export interface IngestResult {
  /** True when the batch was new and stored; false for a batch already stored (replay). */
  stored: boolean;
}

interface Pending {
  deviceId: string;
  organizationId: string;
  batch: TelemetryBatch;
  resolve(r: IngestResult): void;
  reject(e: unknown): void;
}

export interface IngestOptions {
  /** Most samples written in one transaction. */
  maxRowsPerFlush?: number;
  /** How long an idle ingestor waits for more batches to share a transaction, in ms. */
  maxDelayMs?: number;
  /** Most samples queued before new batches are refused (the agent keeps them in its spool). */
  maxQueuedRows?: number;
  /**
   * Transactions in flight at once: one prepares and copies while another commits. A device's
   * later batch waits on the row lock of its earlier one, so order per device holds.
   */
  maxConcurrentFlushes?: number;
  /**
   * Samples older than this when stored (ms) are late: their device and hour go to
   * `telemetry_rollup_pending` in the same transaction, for the native rollup job. Unset: not recorded.
   */
  lateAfterMs?: number;
  /** Where `telemetry.stored` goes after each commit (benchmarks run without one). */
  bus?: EventBus;
}

export class IngestBusy extends Error {
  readonly code = "INGEST_BUSY";
}

/** How long a refused batch holds its device's later batches back (then a gap is accepted: the agent may have dropped it). */
const GAP_HOLD_MS = 120_000;

/**
 * Batches telemetry from many agents into one transaction per flush: the devices' sequence
 * high-water marks are read under lock, batches at or below them are replays (acknowledged, not
 * stored), the rest go in with one `COPY`, and the marks and last-seen times move forward.
 * Each device's batches arrive in order, so a batch is stored exactly once.
 */
export class Ingestor {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly flushes = new Set<Promise<void>>();
  /** The batches of the flushes running now (a flush that starts sees what runs before it). */
  private readonly running = new Set<Pending[]>();
  /**
   * Per device, the lowest batch refused (failed flush or full queue) and when: acknowledgements are
   * cumulative (the agent forgets every batch up to an acknowledged one), so no later batch of the
   * device is accepted until that one comes again, or GAP_HOLD_MS passes.
   */
  private readonly refused = new Map<string, { seq: number; at: number }>();
  private lockChain: Promise<void> = Promise.resolve();
  /** Last committed sequence per device (bounded), to skip copying obvious replays. */
  private readonly knownMarks = new Map<string, number>();
  private readonly maxConcurrentFlushes: number;
  private readonly maxRows: number;
  private readonly maxDelayMs: number;
  private readonly maxQueuedRows: number;
  /** Totals since start, for benchmarks and /metrics. */
  readonly stats = {
    batches: 0,
    stored: 0,
    duplicates: 0,
    samples: 0,
    dropped: 0,
    flushes: 0,
    /** Batches held back because an earlier one of their device was not stored (the agent sends them again). */
    held: 0,
  };
  /** Time from the start of a flush (preparing its COPY text) to its commit, ms. */
  readonly flushLatency = new Histogram();

  constructor(
    private readonly sql: Sql,
    private readonly opts: IngestOptions = {},
  ) {
    this.maxRows = opts.maxRowsPerFlush ?? 20_000;
    this.maxDelayMs = opts.maxDelayMs ?? 0;
    this.maxQueuedRows = opts.maxQueuedRows ?? 100_000;
    this.maxConcurrentFlushes = opts.maxConcurrentFlushes ?? 2;
  }

  /** Queues one batch; resolves once it is committed (or known to be a replay). */
  submit(deviceId: string, organizationId: string, batch: TelemetryBatch): Promise<IngestResult> {
    if (this.queuedRows + batch.samples.length > this.maxQueuedRows) {
      this.refuse(deviceId, batch.seq);
      return Promise.reject(new IngestBusy("ingest queue full"));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ deviceId, organizationId, batch, resolve, reject });
      this.queuedRows += batch.samples.length;
      // Group commit: with no flush running, write at once (next tick, so one tick's frames share
      // it); while one runs, frames gather and the next flush takes them when it ends.
      if (this.queuedRows >= this.maxRows) this.kick();
      else if (this.flushes.size === 0) this.timer ??= setTimeout(() => this.kick(), this.maxDelayMs);
    });
  }

  /** Samples waiting for a flush. */
  get queued(): number {
    return this.queuedRows;
  }

  /** Writes everything queued; used at shutdown and in tests. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.flushes.size > 0) {
      this.kick();
      await Promise.all(this.flushes);
    }
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.flushes.size < this.maxConcurrentFlushes && this.queue.length > 0) {
      const items = this.take();
      // what the flushes running now carry, per device (this one's decisions look back at them)
      const before = new Map<string, number[]>();
      for (const run of this.running)
        for (const p of run) before.get(p.deviceId)?.push(p.batch.seq) ?? before.set(p.deviceId, [p.batch.seq]);
      this.running.add(items);
      const f: Promise<void> = this.flush(items, before).finally(() => {
        this.running.delete(items);
        this.flushes.delete(f);
        if (this.queue.length > 0) this.kick();
      });
      this.flushes.add(f);
    }
  }

  private refuse(deviceId: string, seq: number): void {
    const prev = this.refused.get(deviceId);
    if (prev && prev.seq <= seq && Date.now() - prev.at < GAP_HOLD_MS) return;
    if (!prev && this.refused.size >= 100_000) this.refused.clear();
    this.refused.set(deviceId, { seq, at: Date.now() });
  }

  /**
   * True when a batch of the device below `seq` and above its committed mark was refused or is not
   * stored: an earlier flush carried it and it is not under the mark it left (that flush failed or
   * held it back), or it was refused lately. Accepting `seq` now would acknowledge it too.
   */
  private overtakes(item: Pending, mark: number, before: Map<string, number[]>): boolean {
    const { deviceId } = item;
    const seq = item.batch.seq;
    const r = this.refused.get(deviceId);
    if (r && r.seq > mark && r.seq < seq) {
      if (Date.now() - r.at < GAP_HOLD_MS) return true;
      this.refused.delete(deviceId);
    }
    return before.get(deviceId)?.some((s) => s > mark && s < seq) ?? false;
  }

  private take(): Pending[] {
    let rows = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || rows + (this.queue[n]?.batch.samples.length ?? 0) <= this.maxRows)) {
      rows += this.queue[n]?.batch.samples.length ?? 0;
      n++;
    }
    const taken = this.queue.splice(0, n);
    this.queuedRows -= rows;
    return taken;
  }

  private rememberMarks(marks: Map<string, number>): void {
    if (this.knownMarks.size + marks.size > 200_000) this.knownMarks.clear();
    for (const [id, seq] of marks) if (seq > (this.knownMarks.get(id) ?? 0)) this.knownMarks.set(id, seq);
  }

  /** COPY lines and summaries of one batch, computed before the transaction so it is held briefly. */
  private prepare(item: Pending, now: number): Prepared {
    let lines = "";
    let latest: string | null = null;
    let latestSample: { sample: TelemetrySample; summary: SampleSummary } | null = null;
    let earliest: string | null = null;
    const stored: StoredSample[] = [];
    const lateBefore = this.opts.lateAfterMs === undefined ? Number.NEGATIVE_INFINITY : now - this.opts.lateAfterMs;
    const lateHours: number[] = [];
    for (const sample of item.batch.samples) {
      const t = Date.parse(sample.time);
      if (t < now - RETENTION_MS || t > now + FUTURE_SKEW_MS) {
        this.stats.dropped++;
        continue;
      }
      const summary = summarize(sample);
      lines += copyLine(item.deviceId, item.batch.seq, sample, summary);
      stored.push({ deviceId: item.deviceId, organizationId: item.organizationId, sample, summary });
      if (!latest || latest < sample.time) {
        latest = sample.time;
        latestSample = { sample, summary };
      }
      if (!earliest || earliest > sample.time) earliest = sample.time;
      if (t < lateBefore) {
        const hour = t - (t % HOUR_MS);
        if (lateHours.at(-1) !== hour) lateHours.push(hour);
      }
    }
    return { lines, latest, latestSample, earliest, stored, lateHours };
  }

  private async flush(items: Pending[], before: Map<string, number[]>): Promise<void> {
    const t0 = performance.now();
    const now = Date.now();
    const prepared = items.map((item) => this.prepare(item, now));
    // Copy a batch only when it is newer than what is known stored and than any batch of the same
    // device earlier in this flush: replays after a lost ack are not even copied.
    const highest = new Map<string, number>();
    const copied = items.map((item, i) => {
      const floor = Math.max(this.knownMarks.get(item.deviceId) ?? 0, highest.get(item.deviceId) ?? 0);
      if (item.batch.seq <= floor || (prepared[i]?.lines.length ?? 0) === 0) return false;
      highest.set(item.deviceId, item.batch.seq);
      return true;
    });
    let accepted: boolean[] = [];
    /** Batches held back because an earlier one of their device is not stored (refused once committed). */
    let held: boolean[] = [];
    let marks = new Map<string, number>();
    // Row locks are taken in flush order: a later flush asks for its devices only once the earlier
    // one holds its own, so for a shared device it waits for that commit and reads the new mark.
    const earlier = this.lockChain;
    let locked = () => {};
    this.lockChain = new Promise<void>((resolve) => {
      locked = resolve;
    });
    try {
      await commitFlush(this.sql, {
        copy: prepared.map((p, i) => (copied[i] ? (p?.lines ?? "") : "")).join(""),
        deviceIds: [...new Set(items.map((i) => i.deviceId))],
        earlier,
        locked,
        decide: (committed) => {
          marks = committed;
          const latest = new Map<string, string>();
          const state = new Map<string, LatestState>();
          const undo: FlushDecision["undo"] = [];
          const blocked = new Set<string>();
          held = items.map(() => false);
          accepted = items.map((item, i) => {
            const mark = marks.get(item.deviceId);
            const p = prepared[i];
            const replay = mark === undefined || item.batch.seq <= mark;
            const gap = !replay && (blocked.has(item.deviceId) || this.overtakes(item, mark, before));
            if (replay || gap) {
              // copied optimistically but a replay, an unknown device or out of order: take the rows back out
              if (copied[i] && p?.earliest && p.latest)
                undo.push({ deviceId: item.deviceId, seq: item.batch.seq, from: p.earliest, to: p.latest });
              if (gap) {
                held[i] = true;
                blocked.add(item.deviceId);
              }
              return false;
            }
            marks.set(item.deviceId, item.batch.seq);
            const prev = latest.get(item.deviceId);
            if (p?.latest && (!prev || prev < p.latest)) {
              latest.set(item.deviceId, p.latest);
              if (p.latestSample) state.set(item.deviceId, latestState(item, p.latestSample.sample, p.latestSample.summary));
            }
            return true;
          });
          return { undo, marks, latest, latestState: [...state.values()], lateHours: lateHours(items, prepared, accepted) };
        },
      });
    } catch (err) {
      locked();
      log("error", "telemetry flush failed", { batches: items.length, error: err instanceof Error ? err.message : String(err) });
      for (const item of items) {
        this.refuse(item.deviceId, item.batch.seq);
        item.reject(err);
      }
      return;
    }
    this.flushLatency.record(performance.now() - t0);
    this.rememberMarks(marks);
    this.stats.flushes++;
    const stored: StoredSample[] = [];
    for (const [deviceId, mark] of marks) {
      const r = this.refused.get(deviceId);
      if (r && mark >= r.seq) this.refused.delete(deviceId);
    }
    items.forEach((item, i) => {
      if (held[i]) {
        this.stats.held++;
        this.refuse(item.deviceId, item.batch.seq);
        item.reject(new IngestBusy("an earlier batch of this device is not stored yet: send again from it"));
        return;
      }
      const ok = accepted[i] ?? false;
      this.stats.batches++;
      if (ok) {
        this.stats.stored++;
        stored.push(...(prepared[i]?.stored ?? []));
      } else {
        this.stats.duplicates++;
      }
      item.resolve({ stored: ok });
    });
    this.stats.samples += stored.length;
    if (stored.length > 0) this.opts.bus?.publish("telemetry.stored", { samples: stored });
  }
}

/** The list's latest-state row of a device from its newest accepted sample. */
function latestState(item: Pending, s: TelemetrySample, sum: SampleSummary): LatestState {
  return {
    deviceId: item.deviceId,
    organizationId: item.organizationId,
    time: s.time,
    cpuPercent: s.cpuPercent,
    memoryPercent: sum.memoryPercent,
    diskPercent: sum.diskPercent,
    swapPercent: sum.swapPercent,
    load1: s.load[0],
    networkRxBps: sum.networkRxBps,
    networkTxBps: sum.networkTxBps,
    uptimeSeconds: Math.round(s.uptimeSeconds),
  };
}

/** The device hours that accepted late samples fell in, in key order (no deadlock between overlapping flushes). */
function lateHours(items: Pending[], prepared: Prepared[], accepted: boolean[]): [string, string][] {
  const keys = new Set<string>();
  items.forEach((item, i) => {
    if (!accepted[i]) return;
    for (const hour of prepared[i]?.lateHours ?? []) keys.add(`${item.deviceId} ${new Date(hour).toISOString()}`);
  });
  return [...keys].sort().map((k) => k.split(" ") as [string, string]);
}

interface Prepared {
  lines: string;
  latest: string | null;
  /** The batch's newest kept sample (for the device's latest-state row). */
  latestSample: { sample: TelemetrySample; summary: SampleSummary } | null;
  earliest: string | null;
  stored: StoredSample[];
  /** Hour starts (epoch ms) of late samples. */
  lateHours: number[];
}
