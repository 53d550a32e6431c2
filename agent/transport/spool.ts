import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { TelemetryBatch } from "../../server/protocol/frames.ts";
import { writeFileAtomic } from "../config.ts";

const NAME = /^(\d{16})\.json$/;
/** Seq numbers reserved per write of the state file; after a crash the unused rest is skipped. */
const SEQ_BLOCK = 1000;

/**
 * Undelivered telemetry, in order. Batches live in memory while the socket is expected to ack
 * them quickly, and go to disk (one file per batch, named by seq) when the link is down, at
 * shutdown, or when they wait too long. Bounded by bytes: the oldest batches are dropped first.
 * Also hands out the per-device sequence numbers, reserved in blocks in `state.json`.
 */
export class Spool {
  private readonly memory: TelemetryBatch[] = [];
  private readonly disk: { seq: number; bytes: number }[] = [];
  private diskBytes = 0;
  private nextSeq: number;
  private reservedUpTo: number;
  /** Batches dropped because the spool was full. */
  dropped = 0;

  constructor(
    private readonly dir: string,
    private readonly maxBytes = 50 * 1024 * 1024,
    private readonly maxMemoryBatches = 500,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const f of readdirSync(dir).sort()) {
      const m = NAME.exec(f);
      if (!m) continue;
      const bytes = statSync(join(dir, f)).size;
      this.disk.push({ seq: Number(m[1]), bytes });
      this.diskBytes += bytes;
    }
    let reserved = 0;
    try {
      reserved = Number(JSON.parse(readFileSync(join(dir, "state.json"), "utf8")).seqReserved) || 0;
    } catch {}
    const lastOnDisk = this.disk.at(-1)?.seq ?? 0;
    this.nextSeq = Math.max(reserved, lastOnDisk) + 1;
    this.reservedUpTo = this.nextSeq - 1;
  }

  /** The next sequence number; never reused, also across restarts. */
  takeSeq(): number {
    if (this.nextSeq > this.reservedUpTo) {
      this.reservedUpTo = this.nextSeq + SEQ_BLOCK - 1;
      writeFileAtomic(join(this.dir, "state.json"), JSON.stringify({ seqReserved: this.reservedUpTo }));
    }
    return this.nextSeq++;
  }

  /** The server has stored up to `seq` (maybe under a lost state file): never hand out a seq at or below it. */
  raiseSeqAbove(seq: number): void {
    if (seq >= this.nextSeq) this.nextSeq = seq + 1;
  }

  /** Adds a batch; `persist` writes it to disk at once (link down). */
  push(batch: TelemetryBatch, persist: boolean): void {
    if (persist || this.memory.length >= this.maxMemoryBatches) {
      this.persistAll(); // keep the disk ordered: older in-memory batches go first
      this.writeToDisk(batch);
    } else {
      this.memory.push(batch);
    }
  }

  /** Moves every in-memory batch to disk (link lost, shutting down). */
  persistAll(): void {
    for (const b of this.memory.splice(0)) this.writeToDisk(b);
  }

  /** Forgets every batch with seq ≤ `seq` (the server stored them). */
  ack(seq: number): void {
    while (this.disk.length > 0 && (this.disk[0]?.seq ?? Number.POSITIVE_INFINITY) <= seq) this.removeOldestOnDisk();
    while (this.memory.length > 0 && (this.memory[0]?.seq ?? Number.POSITIVE_INFINITY) <= seq) this.memory.shift();
  }

  /** Up to `max` oldest pending batches with seq > `after`, disk first (it is older), then memory. */
  peek(max: number, after = 0): TelemetryBatch[] {
    const out: TelemetryBatch[] = [];
    for (const d of this.disk) {
      if (out.length >= max) return out;
      if (d.seq <= after) continue;
      try {
        out.push(JSON.parse(readFileSync(this.file(d.seq), "utf8")) as TelemetryBatch);
      } catch {
        // unreadable (disk trouble): skip it rather than block every later batch
      }
    }
    for (const b of this.memory) {
      if (out.length >= max) break;
      if (b.seq > after) out.push(b);
    }
    return out;
  }

  get size(): number {
    return this.disk.length + this.memory.length;
  }

  get bytesOnDisk(): number {
    return this.diskBytes;
  }

  private file(seq: number): string {
    return join(this.dir, `${String(seq).padStart(16, "0")}.json`);
  }

  private writeToDisk(batch: TelemetryBatch): void {
    const text = JSON.stringify(batch);
    while (this.disk.length > 0 && this.diskBytes + text.length > this.maxBytes) {
      this.removeOldestOnDisk();
      this.dropped++;
    }
    writeFileAtomic(this.file(batch.seq), text, 0o600);
    this.disk.push({ seq: batch.seq, bytes: text.length });
    this.diskBytes += text.length;
  }

  private removeOldestOnDisk(): void {
    const d = this.disk.shift();
    if (!d) return;
    this.diskBytes -= d.bytes;
    rmSync(this.file(d.seq), { force: true });
  }
}
