import type { Sql } from "postgres";
import type { StatusChange } from "../devices/status.store.ts";
import type { EventBus, StoredSample } from "../events/bus.ts";
import { Histogram } from "../lib/histogram.ts";
import { log } from "../log.ts";
import type { TelemetryBatch } from "../protocol/frames.ts";
import { commitFlush } from "./ingest.store.ts";
import { copyLine, summarize, telemetryRow } from "./rows.ts";

/** Raw rows are kept 7 days: older samples (a long-offline spool) are acknowledged and dropped. */
const RETENTION_MS = 7 * 24 * 3600 * 1000;
/** Samples from a clock this far ahead are dropped rather than stored in the future. */
const FUTURE_SKEW_MS = 5 * 60 * 1000;

export interface IngestResult {
  /** True when the batch was new and stored; false for a batch already stored (replay). */
  stored: boolean;
}

interface Pending {
  deviceId: string;
  organizationId: string;
  batch: TelemetryBatch;
  /** Times its device's row was found locked by another transaction (the batch went back to the queue). */
  busy?: number;
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
   * Flushes in flight at once: one is written while another commits. Flushes in flight never share a
   * device: a device's later batches wait in the queue until the flush carrying its earlier one ends.
   */
  maxConcurrentFlushes?: number;
  /**
   * Samples older than this when stored (ms) are late: their device and hour go to
   * `telemetry_rollup_pending` in the same transaction, for the native rollup job. Unset: not recorded.
   */
  lateAfterMs?: number;
  /** Where `telemetry.stored` goes after each commit (benchmarks run without one). */
  bus?: EventBus;
  /**
   * Devices whose socket this node holds go from unresponsive to online in the flush that stores their
   * first recent sample (`telemetry_flush`); `announce` gets those changes after the commit. Unset: the
   * flush sets no status (the status sweep does).
   */
  status?: { nodeId: string; onlineWindowS: number; announce(changes: StatusChange[]): void };
}

export class IngestBusy extends Error {
  readonly code = "INGEST_BUSY";
}

/**
 * Samples from which a flush goes as COPY text into a stage (five round trips) rather than as one JSON
 * parameter (one): PostgreSQL reads COPY text at about half the CPU per row, which wins once flushes
 * grow (19,000 agents at 5 s: p99 1,258 → 240 ms whole, 306 → 61 ms steady), while the small flushes
 * of a calmer fleet keep their single round trip (10,000 agents: ~10 samples per flush).
 */
const BULK_ROWS = 40;

/** Fewest samples worth a flush of their own when what is ready is shared among free flush slots. */
const SHARE_ROWS = 8;

/** First wait of a batch whose device's row was locked by another transaction, ms; doubled each time, up to the max. */
const BUSY_RETRY_MS = 5;
const BUSY_RETRY_MAX_MS = 1_000;

/** How long a refused batch holds its device's later batches back (then a gap is accepted: the agent may have dropped it). */
const GAP_HOLD_MS = 120_000;

/**
 * Batches telemetry from many agents into one statement per flush (`telemetry_flush`, one round trip
 * with its commit): the devices' sequence high-water marks are read under lock, batches at or below
 * them are replays (acknowledged, not stored), the rest are written, and each device's latest-state
 * row (its mark, telemetry contact and newest sample) moves forward. Each device's batches arrive in order and flushes in flight
 * never share a device, so a batch is stored exactly once and never overtaken.
 */
export class Ingestor {
  /** Batches whose device has no flush in flight, oldest first: the next flush takes them. */
  private ready: Pending[] = [];
  /**
   * Batches of devices with a flush in flight or sitting out a busy verdict (`timer`), per device in
   * order: they join `ready` when that flush ends or the wait is over.
   */
  private readonly parked = new Map<string, { items: Pending[]; timer?: ReturnType<typeof setTimeout> }>();
  private queuedRows = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly flushes = new Set<Promise<void>>();
  /** Devices of the flushes running now, with how many flushes carry each (one, but counted). */
  private readonly inFlight = new Map<string, number>();
  /**
   * Per device, the lowest batch refused (failed flush or full queue) and when: acknowledgements are
   * cumulative (the agent forgets every batch up to an acknowledged one), so no later batch of the
   * device is accepted until that one comes again, or GAP_HOLD_MS passes.
   */
  private readonly refused = new Map<string, { seq: number; at: number }>();
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
    /** Batches put back in the queue because their device's row was locked by another transaction. */
    busy: 0,
  };
  /** Time from the start of a flush (preparing its rows) to its commit, ms. */
  readonly flushLatency = new Histogram();

  constructor(
    private readonly sql: Sql,
    private readonly opts: IngestOptions = {},
  ) {
    // bounded so that answering one flush (an ack, a resolved promise and the reactions per batch: ~0.1 ms
    // each) never holds the event loop for long: at 20,000 a backlog turned into 1–3 s stalls
    this.maxRows = opts.maxRowsPerFlush ?? 2_000;
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
      const item: Pending = { deviceId, organizationId, batch, resolve, reject };
      const parked = this.parked.get(deviceId);
      if (parked) parked.items.push(item);
      else if (this.inFlight.has(deviceId)) this.parked.set(deviceId, { items: [item] });
      else this.ready.push(item);
      this.queuedRows += batch.samples.length;
      // Group commit: with a flush slot free, write at once (next tick, so one tick's frames share
      // it); while every slot is taken, frames gather and the next flush takes them when one ends.
      if (this.queuedRows >= this.maxRows) this.kick();
      else if (this.flushes.size < this.maxConcurrentFlushes) this.timer ??= setTimeout(() => this.kick(), this.maxDelayMs);
    });
  }

  /** Samples waiting for a flush. */
  get queued(): number {
    return this.queuedRows;
  }

  /** Writes everything queued; used at shutdown and in tests. */
  async drain(): Promise<void> {
    while (this.ready.length > 0 || this.parked.size > 0 || this.flushes.size > 0) {
      this.kick();
      if (this.flushes.size > 0) await Promise.all(this.flushes);
      // only batches waiting out a busy verdict: their timers bring them back
      else await Bun.sleep(BUSY_RETRY_MS);
    }
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // what is ready is shared among the free slots (a slot's share at least SHARE_ROWS samples): one
    // flush carrying a burst alone would take a single PostgreSQL backend as long as the burst is big,
    // while the other slot waits and batches gather behind it. A device's batches never share a flush
    // with another slot's, so there are no more shares than devices (one device's spool goes whole).
    const free = this.maxConcurrentFlushes - this.flushes.size;
    let readyRows = 0;
    const devices = new Set<string>();
    for (const p of this.ready) {
      readyRows += p.batch.samples.length;
      devices.add(p.deviceId);
      if (readyRows >= free * this.maxRows) break; // every free slot gets a full flush
    }
    const shares = Math.max(1, Math.min(free, devices.size, Math.ceil(readyRows / SHARE_ROWS)));
    const share = Math.ceil(readyRows / shares);
    while (this.flushes.size < this.maxConcurrentFlushes && this.ready.length > 0) {
      const items = this.take(Math.min(this.maxRows, share));
      for (const p of items) this.inFlight.set(p.deviceId, (this.inFlight.get(p.deviceId) ?? 0) + 1);
      const f: Promise<void> = this.flush(items).finally(() => {
        for (const p of items) {
          const n = (this.inFlight.get(p.deviceId) ?? 1) - 1;
          if (n > 0) this.inFlight.set(p.deviceId, n);
          else {
            this.inFlight.delete(p.deviceId);
            this.unpark(p.deviceId);
          }
        }
        this.flushes.delete(f);
        if (this.ready.length > 0) this.kick();
      });
      this.flushes.add(f);
    }
  }

  /** A device's parked batches join the ready ones, in order, once it has no flush in flight and no wait to sit out. */
  private unpark(deviceId: string): void {
    const parked = this.parked.get(deviceId);
    if (!parked || this.inFlight.has(deviceId) || parked.timer) return;
    this.parked.delete(deviceId);
    for (const item of parked.items) this.ready.push(item);
  }

  /** Batches whose device's row another transaction held: parked ahead of the device's later ones, due after a wait. */
  private parkBusy(deviceId: string, items: Pending[], waitMs: number): void {
    const parked = this.parked.get(deviceId) ?? { items: [] };
    parked.items = [...items, ...parked.items];
    if (parked.timer) clearTimeout(parked.timer);
    parked.timer = setTimeout(() => {
      parked.timer = undefined;
      this.unpark(deviceId);
      this.kick();
    }, waitMs);
    this.parked.set(deviceId, parked);
    for (const item of items) this.queuedRows += item.batch.samples.length;
  }

  private refuse(deviceId: string, seq: number): void {
    const prev = this.refused.get(deviceId);
    if (prev && prev.seq <= seq && Date.now() - prev.at < GAP_HOLD_MS) return;
    if (!prev && this.refused.size >= 100_000) this.refused.clear();
    this.refused.set(deviceId, { seq, at: Date.now() });
  }

  /**
   * The lowest refused batch of the device below `item` (a failed flush or a full queue), or null. Acks are
   * cumulative: `telemetry_flush` holds the batch back when the refused one is above the device's mark.
   * After GAP_HOLD_MS a gap is accepted (the agent may have dropped that batch from its spool).
   */
  private gapFor(item: Pending): number | null {
    const r = this.refused.get(item.deviceId);
    if (!r || r.seq >= item.batch.seq) return null;
    if (Date.now() - r.at < GAP_HOLD_MS) return r.seq;
    this.refused.delete(item.deviceId);
    return null;
  }

  /**
   * The next flush's batches, oldest first, up to `maxRows` samples. Every ready batch's device has no
   * flush in flight (the others are parked), so two flushes never race for one device's mark; when the
   * limit cuts a device's batches in two, the rest of them is parked until this flush ends.
   */
  private take(maxRows: number): Pending[] {
    let rows = 0;
    let n = 0;
    while (n < this.ready.length && (n === 0 || rows + (this.ready[n]?.batch.samples.length ?? 0) <= maxRows)) {
      rows += this.ready[n]?.batch.samples.length ?? 0;
      n++;
    }
    const taken = this.ready.splice(0, n);
    this.queuedRows -= rows;
    if (this.ready.length > 0) {
      const devices = new Set(taken.map((p) => p.deviceId));
      const rest: Pending[] = [];
      for (const p of this.ready) {
        if (!devices.has(p.deviceId)) {
          rest.push(p);
          continue;
        }
        const parked = this.parked.get(p.deviceId);
        if (parked) parked.items.push(p);
        else this.parked.set(p.deviceId, { items: [p] });
      }
      this.ready = rest;
    }
    return taken;
  }

  private rememberMarks(marks: Map<string, number>): void {
    if (this.knownMarks.size + marks.size > 200_000) this.knownMarks.clear();
    for (const [id, seq] of marks) if (seq > (this.knownMarks.get(id) ?? 0)) this.knownMarks.set(id, seq);
  }

  /** The kept samples of one batch with their summaries (rows are written from them at send time); samples outside retention are dropped. */
  private prepare(item: Pending, now: number): Prepared {
    const stored: StoredSample[] = [];
    for (const sample of item.batch.samples) {
      const t = Date.parse(sample.time);
      if (t < now - RETENTION_MS || t > now + FUTURE_SKEW_MS) {
        this.stats.dropped++;
        continue;
      }
      const summary = summarize(sample);
      stored.push({ deviceId: item.deviceId, organizationId: item.organizationId, sample, summary });
    }
    return { stored };
  }

  private async flush(items: Pending[]): Promise<void> {
    const t0 = performance.now();
    const now = Date.now();
    const prepared = items.map((item) => this.prepare(item, now));
    const devices: string[] = [];
    const position = new Map<string, number>();
    const batchDevice = items.map((item) => {
      let d = position.get(item.deviceId);
      if (d === undefined) {
        d = devices.length;
        position.set(item.deviceId, d);
        devices.push(item.deviceId);
      }
      return d;
    });
    // Rows go only with batches newer than what is known stored and than any batch of the same device
    // earlier in this flush: replays after a lost ack are not even sent.
    const highest = new Map<string, number>();
    const sent: number[] = [];
    let count = 0;
    items.forEach((item, i) => {
      const floor = Math.max(this.knownMarks.get(item.deviceId) ?? 0, highest.get(item.deviceId) ?? 0);
      if (item.batch.seq <= floor) return;
      highest.set(item.deviceId, item.batch.seq);
      sent.push(i);
      count += prepared[i]?.stored.length ?? 0;
    });
    // a large flush (a busy fleet, a spool after an outage) is copied: PostgreSQL reads COPY text for half the CPU of JSON
    const rows =
      count >= BULK_ROWS
        ? {
            copy: sent
              .flatMap((i) =>
                (prepared[i]?.stored ?? []).map((s) => `${i + 1}\t${copyLine(s.deviceId, items[i]?.batch.seq ?? 0, s.sample, s.summary)}`),
              )
              .join(""),
          }
        : { json: JSON.stringify(sent.flatMap((i) => (prepared[i]?.stored ?? []).map((s) => telemetryRow(i + 1, s.sample, s.summary)))) };
    let result: Awaited<ReturnType<typeof commitFlush>>;
    try {
      result = await commitFlush(this.sql, {
        devices,
        batchDevice,
        batchSeq: items.map((item) => item.batch.seq),
        batchGap: items.map((item) => this.gapFor(item) ?? 0),
        rows,
        lateBefore: this.opts.lateAfterMs === undefined ? null : new Date(now - this.opts.lateAfterMs).toISOString(),
        ...(this.opts.status
          ? { online: { nodeId: this.opts.status.nodeId, since: new Date(now - this.opts.status.onlineWindowS * 1000).toISOString() } }
          : {}),
      });
    } catch (err) {
      log("error", "telemetry flush failed", { batches: items.length, error: err instanceof Error ? err.message : String(err) });
      for (const item of items) {
        this.refuse(item.deviceId, item.batch.seq);
        item.reject(err);
      }
      return;
    }
    this.flushLatency.record(performance.now() - t0);
    const { verdicts, marks, wentOnline } = result;
    this.rememberMarks(marks);
    this.stats.flushes++;
    for (const [deviceId, mark] of marks) {
      const r = this.refused.get(deviceId);
      if (r && mark >= r.seq) this.refused.delete(deviceId);
    }
    const stored: StoredSample[] = [];
    const again = new Map<string, Pending[]>();
    items.forEach((item, i) => {
      const verdict = verdicts[i];
      if (verdict === "busy") {
        // another transaction holds the device's row: back to the queue, ahead of the device's later
        // batches (they stayed queued while this flush ran), due again after a short, growing wait
        this.stats.busy++;
        item.busy = (item.busy ?? 0) + 1;
        again.get(item.deviceId)?.push(item) ?? again.set(item.deviceId, [item]);
        return;
      }
      if (verdict === "held") {
        this.stats.held++;
        this.refuse(item.deviceId, item.batch.seq);
        item.reject(new IngestBusy("an earlier batch of this device is not stored yet: send again from it"));
        return;
      }
      this.stats.batches++;
      if (verdict === "stored") {
        this.stats.stored++;
        for (const s of prepared[i]?.stored ?? []) stored.push(s);
      } else {
        this.stats.duplicates++;
      }
      item.resolve({ stored: verdict === "stored" });
    });
    for (const [deviceId, items] of again)
      this.parkBusy(deviceId, items, Math.min(BUSY_RETRY_MS * 2 ** ((items[0]?.busy ?? 1) - 1), BUSY_RETRY_MAX_MS));
    this.stats.samples += stored.length;
    if (wentOnline.size > 0) {
      const organizationOf = new Map(items.map((p) => [p.deviceId, p.organizationId]));
      this.opts.status?.announce(
        [...wentOnline].map(([id, hostname]) => ({
          id,
          organizationId: organizationOf.get(id) ?? "",
          hostname,
          previous: "unresponsive",
          status: "online",
        })),
      );
    }
    if (stored.length > 0) this.opts.bus?.publish("telemetry.stored", { samples: stored });
  }
}

interface Prepared {
  stored: StoredSample[];
}
