import type { Sql } from "postgres";
import { log } from "../log.ts";
import type { TelemetryBatch } from "../protocol/frames.ts";
import type { TelemetrySample } from "../protocol/telemetry.ts";
import { type SampleSummary, TELEMETRY_COLUMNS, copyLine, summarize } from "./rows.ts";

/** Raw rows are kept 7 days: older samples (a long-offline spool) are acknowledged and dropped. */
const RETENTION_MS = 7 * 24 * 3600 * 1000;
/** Samples from a clock this far ahead are dropped rather than stored in the future. */
const FUTURE_SKEW_MS = 5 * 60 * 1000;

export interface IngestResult {
  /** True when the batch was new and stored; false for a batch already stored (replay). */
  stored: boolean;
}

export interface StoredSample {
  deviceId: string;
  organizationId: string;
  sample: TelemetrySample;
  summary: SampleSummary;
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
  /** Longest a batch waits for others to share its transaction, in ms. */
  maxDelayMs?: number;
  /** Most samples queued before new batches are refused (the agent keeps them in its spool). */
  maxQueuedRows?: number;
  onStored?: (samples: StoredSample[]) => void;
}

export class IngestBusy extends Error {
  readonly code = "INGEST_BUSY";
}

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
  private flushing: Promise<void> | undefined;
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
  };

  constructor(
    private readonly sql: Sql,
    private readonly opts: IngestOptions = {},
  ) {
    this.maxRows = opts.maxRowsPerFlush ?? 5000;
    this.maxDelayMs = opts.maxDelayMs ?? 20;
    this.maxQueuedRows = opts.maxQueuedRows ?? 100_000;
  }

  /** Queues one batch; resolves once it is committed (or known to be a replay). */
  submit(deviceId: string, organizationId: string, batch: TelemetryBatch): Promise<IngestResult> {
    if (this.queuedRows + batch.samples.length > this.maxQueuedRows) return Promise.reject(new IngestBusy("ingest queue full"));
    return new Promise((resolve, reject) => {
      this.queue.push({ deviceId, organizationId, batch, resolve, reject });
      this.queuedRows += batch.samples.length;
      if (this.queuedRows >= this.maxRows) this.kick();
      else this.timer ??= setTimeout(() => this.kick(), this.maxDelayMs);
    });
  }

  /** Writes everything queued; used at shutdown and in tests. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.flushing) {
      this.kick();
      await this.flushing;
    }
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) this.kick();
    });
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

  private async flush(): Promise<void> {
    const items = this.take();
    const stored: StoredSample[] = [];
    const results: IngestResult[] = [];
    try {
      await this.sql.begin(async (tx) => {
        stored.length = 0;
        results.length = 0;
        const ids = [...new Set(items.map((i) => i.deviceId))];
        const marks = new Map<string, number>();
        for (const r of await tx<{ id: string; seq: string }[]>`
          select id, last_batch_seq as seq from devices where id = any(${ids}::uuid[]) order by id for update`) {
          marks.set(r.id, Number(r.seq));
        }
        const now = Date.now();
        let copy = "";
        const lastTime = new Map<string, string>();
        for (const item of items) {
          const mark = marks.get(item.deviceId);
          if (mark === undefined || item.batch.seq <= mark) {
            results.push({ stored: false });
            continue;
          }
          marks.set(item.deviceId, item.batch.seq);
          results.push({ stored: true });
          for (const sample of item.batch.samples) {
            const t = Date.parse(sample.time);
            if (t < now - RETENTION_MS || t > now + FUTURE_SKEW_MS) {
              this.stats.dropped++;
              continue;
            }
            const summary = summarize(sample);
            copy += copyLine(item.deviceId, item.batch.seq, sample, summary);
            stored.push({
              deviceId: item.deviceId,
              organizationId: item.organizationId,
              sample,
              summary,
            });
            const prev = lastTime.get(item.deviceId);
            if (!prev || prev < sample.time) lastTime.set(item.deviceId, sample.time);
          }
        }
        if (copy.length > 0) {
          const writable = await tx`copy device_telemetry (${tx([...TELEMETRY_COLUMNS])}) from stdin`.writable();
          await new Promise<void>((resolve, reject) => {
            writable.on("error", reject);
            writable.on("finish", resolve);
            writable.end(copy);
          });
        }
        const seqIds = [...marks.keys()];
        await tx`
          update devices d set last_batch_seq = v.seq,
            last_telemetry_at = greatest(d.last_telemetry_at, v.t),
            last_seen_at = now()
          from unnest(${seqIds}::uuid[], ${seqIds.map((id) => marks.get(id) ?? 0)}::bigint[],
                      ${seqIds.map((id) => lastTime.get(id) ?? null)}::timestamptz[]) as v(id, seq, t)
          where d.id = v.id`;
      });
    } catch (err) {
      log("error", "telemetry flush failed", {
        batches: items.length,
        error: err instanceof Error ? err.message : String(err),
      });
      for (const item of items) item.reject(err);
      return;
    }
    this.stats.flushes++;
    items.forEach((item, i) => {
      const r = results[i] ?? { stored: false };
      this.stats.batches++;
      if (r.stored) this.stats.stored++;
      else this.stats.duplicates++;
      item.resolve(r);
    });
    this.stats.samples += stored.length;
    if (stored.length > 0) this.opts.onStored?.(stored);
  }
}
