import { mkdirSync, statSync } from "node:fs";
import { type FileHandle, link, open, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { type Type, type } from "arktype";
import type { Sql } from "postgres";
import { type AgentHub, TEXT_RESULT_OVERHEAD_BYTES } from "../agents/hub.ts";
import { auditActor, writeAudit } from "../audit/store.ts";
import { log } from "../log.ts";
import { MAX_CHUNK_BYTES, ReadChunk, WriteDone, WriteOffset } from "../protocol/files.ts";
import { FileExplorer, TRANSIENT } from "./service.ts";
import {
  chainedUploads,
  claimTransfer,
  doneDownloadsWithWaitingUploads,
  expiredStaging,
  liveStagingNames,
  releaseTransfer,
  siteRateOf,
  type TransferRow,
  transferById,
  unfinishedTransfers,
  updateTransfer,
} from "./store.ts";
import { RttGovernor, TokenBucket } from "./throttle.ts";

/** A transfer waits this long between looks for its device while it is away. */
const WAIT_POLL_MS = 1000;
/** A transfer whose device stays away this long fails (`DEVICE_AWAY`). */
const MAX_WAIT_MS = 24 * 60 * 60_000;
/** Progress is written to the database at most this often (and at every state change). */
const PERSIST_EVERY_MS = 1000;
/** A runner's lease on its transfer lasts this long and is renewed every third of it. */
const LEASE_MS = 30_000;
/** Unfinished transfers nobody drives (their node stopped or died) are looked for this often. */
const ADOPT_EVERY_MS = 10_000;
/** A device's cap (its site's default) is read again this often while its transfers run. */
const DEVICE_CAP_TTL_MS = 5000;
/** Finished transfers keep their staged file this long (a download can be fetched again). */
const KEEP_STAGED_MS = 24 * 60 * 60_000;

class Stop extends Error {}

interface Control {
  /** Set by pause/cancel/shutdown (or a lease lost to another node); the loop stops before its next chunk. */
  stop?: "paused" | "cancelled" | "shutdown" | "lost";
  /** Resolves when the runner returned. */
  done: Promise<void>;
  /** Bytes done so far (for a download streamed while it arrives). */
  doneBytes: number;
  state: TransferRow["state"];
  listeners: Set<() => void>;
}

/**
 * Runs file transfers between the server's staging directory and devices, in chunks over the
 * agent's socket: a download reads the device's file chunk by chunk (each a `read` call, written to
 * the staged file on arrival); an upload sends the staged file (a finished tus upload) in `write`
 * calls, each acknowledged with the partial file's new length, then `write_commit` with the
 * SHA-256. One chunk is in flight at a time, so after a cut socket or a restart the transfer
 * resumes from the last acknowledged byte (the staged file's length, or the device's partial file)
 * and at most one chunk travels twice. Both ends hash as the bytes pass; the hashes must agree.
 * Chunks travel as binary messages (the bytes raw) to and from agents that take them, in base64 to
 * older ones. Bandwidth: the transfer's own cap and the device's cap (token buckets, counting what
 * each chunk takes on the agent's socket: its bytes and the frame around them, base64 for older
 * agents) and a governor that backs off when round trips grow.
 */
export class FileTransfers {
  private readonly controls = new Map<string, Control>();
  private readonly deviceBuckets = new Map<string, TokenBucket>();
  private readonly deviceCaps = new Map<string, { at: number; bps: number }>();
  /** Counts the drops of `deviceCaps` (a read that overlapped one is not kept). */
  private capsGeneration = 0;
  private readonly explorer: FileExplorer;
  private stopping = false;
  private adopter: ReturnType<typeof setInterval> | undefined;
  readonly downloadsDir: string;
  readonly uploadsDir: string;

  constructor(
    private readonly sql: Sql,
    private readonly agents: AgentHub,
    dataDir: string,
    private readonly o: { deviceRateBps: number; quotaBytes: number; nodeId: string },
  ) {
    this.explorer = new FileExplorer(sql, agents);
    this.downloadsDir = join(dataDir, "files", "downloads");
    this.uploadsDir = join(dataDir, "files", "uploads");
    mkdirSync(this.downloadsDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.uploadsDir, { recursive: true, mode: 0o700 });
  }

  /**
   * Carries on with the transfers a previous process left unfinished, and from then on adopts those
   * whose node stopped or died; each runs under a lease (file_transfers.runner_node/runner_until), so
   * with several nodes on one database exactly one drives each transfer.
   */
  async start(): Promise<void> {
    await this.adopt();
    for (const d of await doneDownloadsWithWaitingUploads(this.sql)) await this.forward(d);
    this.adopter = setInterval(() => void this.adopt().catch(() => undefined), ADOPT_EVERY_MS);
    this.adopter.unref?.();
  }

  /** Runs here every unfinished transfer whose lease this node can take (the others are driven elsewhere). */
  private async adopt(): Promise<void> {
    if (this.stopping) return;
    for (const t of await unfinishedTransfers(this.sql)) if (!this.controls.has(t.id)) this.run(t);
  }

  /**
   * A device-to-device copy's second half: the finished download's staged file becomes the source of
   * the uploads waiting for it (a hard link in the uploads directory), checked against its SHA-256.
   */
  async forward(download: TransferRow): Promise<void> {
    for (const u of await chainedUploads(this.sql, download.stagingName)) {
      await link(join(this.downloadsDir, download.stagingName), join(this.uploadsDir, u.stagingName)).catch((err) => {
        if ((err as { code?: string }).code !== "EEXIST") throw err;
      });
      await updateTransfer(this.sql, u.id, { state: "queued", sha256: download.sha256 ?? undefined });
      this.run({ ...u, state: "queued", sha256: download.sha256 });
    }
  }

  /** Stops every runner after its current chunk (their state stays, so the next start resumes them). */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.adopter);
    for (const c of this.controls.values()) c.stop = "shutdown";
    await Promise.all([...this.controls.values()].map((c) => c.done));
  }

  /** True while a runner of this process moves the transfer. */
  isRunning(id: string): boolean {
    return this.controls.has(id);
  }

  /** Bytes done and state as this process knows them (fresher than the database, which is written once a second). */
  live(id: string): { doneBytes: number; state: TransferRow["state"] } | undefined {
    const c = this.controls.get(id);
    return c && { doneBytes: c.doneBytes, state: c.state };
  }

  /** Calls `fn` on every progress step of the transfer until it returns; returns the unsubscribe. */
  onProgress(id: string, fn: () => void): () => void {
    const c = this.controls.get(id);
    if (!c) return () => undefined;
    c.listeners.add(fn);
    return () => c.listeners.delete(fn);
  }

  /** Starts (or resumes) a transfer in this process, once this node holds its lease (else another node drives it, and nothing happens here). */
  run(t: TransferRow): void {
    if (this.controls.has(t.id) || this.stopping) return;
    let resolve = () => {};
    const c: Control = { done: new Promise((r) => (resolve = r)), doneBytes: t.doneBytes, state: t.state, listeners: new Set() };
    this.controls.set(t.id, c);
    let renew: ReturnType<typeof setInterval> | undefined;
    let held = false;
    void (async () => {
      const lease = await claimTransfer(this.sql, t.id, this.o.nodeId, LEASE_MS);
      if (!lease || !["queued", "running", "waiting"].includes(lease.state)) return;
      held = true;
      renew = setInterval(() => {
        void claimTransfer(this.sql, t.id, this.o.nodeId, LEASE_MS)
          .then((l) => {
            if (!l) c.stop ??= "lost";
            else if (l.state === "paused" || l.state === "cancelled") c.stop ??= l.state;
          })
          .catch(() => undefined); // the database away: the runner's own writes fail and end it
      }, LEASE_MS / 3);
      renew.unref?.();
      await (t.direction === "download" ? this.download(t, c) : this.upload(t, c));
    })()
      .catch((err) => log("error", "file transfer failed", { id: t.id, error: String(err).slice(0, 300) }))
      .finally(async () => {
        clearInterval(renew);
        if (held) await releaseTransfer(this.sql, t.id, this.o.nodeId).catch(() => undefined);
        this.controls.delete(t.id);
        for (const l of c.listeners) l();
        resolve();
      });
  }

  /** Pauses a running transfer (it keeps its bytes); resolves once its runner stopped. */
  async pause(id: string): Promise<void> {
    const c = this.controls.get(id);
    if (c) {
      c.stop = "paused";
      await c.done;
    } else await updateTransfer(this.sql, id, { state: "paused" });
  }

  /** Cancels a transfer: its runner stops, its staged and partial files are removed. */
  async cancel(t: TransferRow): Promise<void> {
    const c = this.controls.get(t.id);
    if (c) {
      c.stop = "cancelled";
      await c.done;
    }
    await updateTransfer(this.sql, t.id, { state: "cancelled" });
    if (t.direction === "download") {
      await rm(join(this.downloadsDir, t.stagingName), { force: true });
      for (const u of await chainedUploads(this.sql, t.stagingName)) await updateTransfer(this.sql, u.id, { state: "cancelled" });
    }
    if (t.direction === "upload") {
      await this.removeUpload(t.stagingName);
      // the device's partial file: removed when the device is there, else left (hidden, named by the transfer)
      await this.explorer
        .call(t.deviceId, { op: "write_abort", transferId: t.id, path: t.path, elevated: t.elevated })
        .catch(() => undefined);
    }
  }

  /** Bytes the staging directory holds now. */
  async stagedBytes(): Promise<number> {
    let total = 0;
    for (const dir of [this.downloadsDir, this.uploadsDir])
      for (const name of await readdir(dir).catch(() => [] as string[]))
        total += await stat(join(dir, name))
          .then((s) => s.size)
          .catch(() => 0);
    return total;
  }

  /** True when `bytes` more fit under the staging quota. */
  async fits(bytes: number): Promise<boolean> {
    return (await this.stagedBytes()) + bytes <= this.o.quotaBytes;
  }

  /** Removes staged files of transfers finished more than a day ago and files no transfer knows. */
  async cleanup(): Promise<number> {
    const before = new Date(Date.now() - KEEP_STAGED_MS);
    let removed = 0;
    for (const t of await expiredStaging(this.sql, before)) {
      if (t.direction === "download") await rm(join(this.downloadsDir, t.stagingName), { force: true });
      else await this.removeUpload(t.stagingName);
    }
    const live = await liveStagingNames(this.sql, before);
    for (const dir of [this.downloadsDir, this.uploadsDir])
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        const base = name.replace(/\.json$/, "");
        const age = Date.now() - (statSync(join(dir, name), { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
        // an upload still arriving from a browser has no transfer yet: kept for a day after its last byte
        if (!live.has(base) && age > KEEP_STAGED_MS) {
          await rm(join(dir, name), { force: true });
          removed++;
        }
      }
    return removed;
  }

  private async removeUpload(name: string): Promise<void> {
    await rm(join(this.uploadsDir, name), { force: true });
    await rm(join(this.uploadsDir, `${name}.json`), { force: true });
  }

  private deviceBucket(deviceId: string): TokenBucket {
    let b = this.deviceBuckets.get(deviceId);
    if (!b) {
      b = new TokenBucket(this.o.deviceRateBps);
      if (this.deviceBuckets.size > 10_000) this.deviceBuckets.clear();
      this.deviceBuckets.set(deviceId, b);
    }
    return b;
  }

  /**
   * The per-device cap of the device's transfers, bytes/s (0: none): its site's default when one is
   * set, else the server's SENTPULSE_FILES_DEVICE_RATE_BPS; read again every few seconds, so a
   * change in the site's settings reaches running transfers.
   */
  async deviceCap(deviceId: string): Promise<number> {
    const known = this.deviceCaps.get(deviceId);
    if (known && Date.now() - known.at < DEVICE_CAP_TTL_MS) return known.bps;
    const generation = this.capsGeneration;
    const bps = (await siteRateOf(this.sql, deviceId).catch(() => null)) ?? this.o.deviceRateBps;
    if (this.deviceCaps.size > 10_000) this.deviceCaps.clear();
    // a cap read while the caps were dropped may predate the change: used now, read again next time
    if (generation === this.capsGeneration) this.deviceCaps.set(deviceId, { at: Date.now(), bps });
    this.deviceBucket(deviceId).rateBps = bps;
    return bps;
  }

  /** A site's cap changed: every device's cap is read again at its next chunk. */
  forgetCaps(): void {
    this.capsGeneration++;
    this.deviceCaps.clear();
  }

  /** Sets a state in memory and in the database, and tells whoever follows the transfer. */
  private async setState(t: TransferRow, c: Control, u: Parameters<typeof updateTransfer>[2]): Promise<void> {
    // the row first: whoever reads the live state "done" must find the checksum in the row
    await updateTransfer(this.sql, t.id, u);
    if (u.state) c.state = u.state;
    if (u.doneBytes !== undefined) c.doneBytes = u.doneBytes;
    for (const l of c.listeners) l();
  }

  /** Waits for the device to be connected (here or to another node); throws Stop once the transfer is told to stop. */
  private async awaitDevice(t: TransferRow, c: Control): Promise<void> {
    const since = Date.now();
    let marked = false;
    // held here or, in a cluster, by another node (calls are forwarded there)
    while (!this.agents.isConnected(t.deviceId)) {
      if (c.stop) throw new Stop();
      if (!marked) {
        await this.setState(t, c, { state: "waiting" });
        marked = true;
      }
      if (Date.now() - since > MAX_WAIT_MS) throw Object.assign(new Error("the device stayed away"), { code: "DEVICE_AWAY" });
      await Bun.sleep(WAIT_POLL_MS);
    }
    if (marked || c.state !== "running") await this.setState(t, c, { state: "running" });
  }

  /**
   * Waits out the caps for `bytes`: a transfer with its own cap goes at that rate (it overrides the
   * device's default); those without share the device's cap (its site's default or the server's),
   * one bucket per device. The governor's rate (backing off when round trips grow) applies to both.
   */
  private async pace(t: TransferRow, own: TokenBucket, gov: RttGovernor, bytes: number): Promise<void> {
    const cap = await this.deviceCap(t.deviceId);
    gov.setCap(t.rateLimitBps ?? cap);
    own.rateBps = Math.min(t.rateLimitBps ?? Number.POSITIVE_INFINITY, gov.rateBps);
    const wait = Math.max(own.take(bytes), t.rateLimitBps ? 0 : this.deviceBucket(t.deviceId).take(bytes));
    if (wait > 0) await Bun.sleep(wait);
  }

  /**
   * Counts `bytes` more (or, negative, fewer) against the caps after a chunk went: what it took on
   * the socket beyond the estimate it was paced with. The next chunk waits for it.
   */
  private charge(t: TransferRow, own: TokenBucket, bytes: number): void {
    if (bytes === 0) return;
    own.take(bytes);
    if (!t.rateLimitBps) this.deviceBucket(t.deviceId).take(bytes);
  }

  private async finish(t: TransferRow, c: Control, err: unknown, wire: number): Promise<void> {
    // another node took the transfer over (this one stalled past its lease): it writes from now on
    if (c.stop === "lost") return;
    if (err instanceof Stop || c.stop) {
      const state = c.stop === "cancelled" ? "cancelled" : c.stop === "paused" ? "paused" : c.state;
      await this.setState(t, c, { state, doneBytes: c.doneBytes, wireBytes: wire });
      return;
    }
    const code = (err as { code?: string }).code ?? "TRANSFER_FAILED";
    const message = err instanceof Error ? err.message : String(err);
    await this.setState(t, c, { state: "failed", error: `${code}: ${message}`.slice(0, 1024), doneBytes: c.doneBytes, wireBytes: wire });
    await this.audit(t, "failed", { outcome: code, bytes: c.doneBytes });
    // a device-to-device copy waiting for this download fails with it
    if (t.direction === "download")
      for (const u of await chainedUploads(this.sql, t.stagingName))
        await updateTransfer(this.sql, u.id, {
          state: "failed",
          error: `SOURCE_FAILED: the download from the source device failed (${code})`,
        });
  }

  private audit(t: TransferRow, what: string, details: Record<string, unknown>): Promise<void> {
    return writeAudit(this.sql, {
      ...auditActor(t.organizationId, { type: t.actorType, id: t.actorId ?? "", name: t.actorName ?? "" }),
      action: `file.${t.direction}.${what}`,
      targetType: "device",
      targetId: t.deviceId,
      details: { transferId: t.id, path: t.path, size: t.size, elevated: t.elevated, ...details },
    });
  }

  /** One call; transient failures (device away, busy) wait for the device and try again, others throw with the agent's code. */
  private async call<T>(t: TransferRow, c: Control, req: Parameters<FileExplorer["call"]>[1], schema: Type<T>): Promise<T> {
    return (await this.callWithBytes(t, c, req, schema)).data;
  }

  /** `call` for a chunk, with the bytes that came raw beside the answer and what the chunk took on the socket. */
  private async callWithBytes<T>(
    t: TransferRow,
    c: Control,
    req: Parameters<FileExplorer["call"]>[1],
    schema: Type<T>,
    /** Called at every attempt (a chunk asked for again after a cut counts again). */
    attempt?: () => void,
    /** An upload chunk's bytes (sent raw or in base64, as the agent takes them). */
    payload?: Uint8Array,
  ): Promise<{ data: T; payload?: Uint8Array; wireBytes?: number }> {
    for (;;) {
      if (c.stop) throw new Stop();
      await this.awaitDevice(t, c);
      attempt?.();
      const r = await this.explorer.call(t.deviceId, req, payload);
      if (r.ok) {
        const data = schema(r.data);
        if (data instanceof type.errors) throw Object.assign(new Error(data.summary.slice(0, 300)), { code: "AGENT_BAD_REPLY" });
        return { data: data as T, payload: r.payload, wireBytes: r.wireBytes };
      }
      if (!TRANSIENT.has(r.code)) throw Object.assign(new Error(r.message ?? r.code), { code: r.code });
      if (r.code === "TOO_MANY_CALLS" || r.code === "DEADLINE_EXCEEDED") await Bun.sleep(WAIT_POLL_MS);
    }
  }

  private async download(t: TransferRow, c: Control): Promise<void> {
    const file = join(this.downloadsDir, t.stagingName);
    let fd: FileHandle | undefined;
    let wire = t.wireBytes;
    try {
      fd = await open(file, "a+");
      // the staged file's length is what arrived whole: resume there (a chunk cut in the middle of its write is simply read again)
      let offset = Math.min((await fd.stat()).size, t.size);
      const hasher = new Bun.CryptoHasher("sha256");
      await hashFile(fd, hasher, offset);
      await fd.close();
      fd = await open(file, "r+");
      await this.setState(t, c, { state: "running", doneBytes: offset });
      const own = new TokenBucket(t.rateLimitBps ?? 0);
      const gov = new RttGovernor(t.rateLimitBps ?? (await this.deviceCap(t.deviceId)));
      let agentSha: string | undefined;
      let persisted = Date.now();
      /** Socket bytes per file byte of the last chunk (its frame included; ~4/3 for an agent answering in base64). */
      let wireRatio = 1;
      /** Asks for the chunk at `at` (paced by what it will take on the socket, as the last one did); one chunk is on the wire at a time. */
      const ask = async (at: number) => {
        const length = Math.max(1, Math.min(gov.chunkBytes(MAX_CHUNK_BYTES), t.size - at));
        const estimate = Math.ceil(length * wireRatio);
        await this.pace(t, own, gov, estimate);
        const t0 = performance.now();
        const reply = await this.callWithBytes(
          t,
          c,
          { op: "read", transferId: t.id, path: t.path, offset: at, length, size: t.size, mtime: t.sourceMtime ?? 0, elevated: t.elevated },
          ReadChunk,
          // counted when asked for: a chunk lost in a cut counts as sent, and again when asked again
          () => {
            wire += length;
          },
        );
        return { reply, length, estimate, ms: performance.now() - t0 };
      };
      let next = ask(offset);
      for (;;) {
        const { reply, length, estimate, ms } = await next;
        const chunk = reply.data;
        // raw from an agent that sends binary chunks, base64 from one that does not; never both, never neither
        if ((reply.payload === undefined) === (chunk.data === undefined))
          throw Object.assign(new Error("the device sent a chunk with no bytes, or with bytes twice"), { code: "AGENT_BAD_REPLY" });
        const buf = reply.payload ?? Buffer.from(chunk.data ?? "", "base64");
        gov.observe(Math.max(1, buf.length), ms);
        if (buf.length !== Math.min(length, t.size - offset))
          throw Object.assign(new Error("the device sent a chunk of the wrong length"), { code: "AGENT_BAD_REPLY" });
        const onWire = reply.wireBytes ?? (chunk.data?.length ?? 0) + TEXT_RESULT_OVERHEAD_BYTES;
        this.charge(t, own, onWire - estimate);
        wireRatio = onWire / Math.max(1, buf.length);
        // the next chunk is asked for while this one is written and hashed
        if (!chunk.eof) {
          next = ask(offset + buf.length);
          next.catch(() => undefined); // awaited next round; a failure of this round must not leave it unhandled
        }
        for (let done = 0; done < buf.length; ) done += (await fd.write(buf, done, buf.length - done, offset + done)).bytesWritten;
        hasher.update(buf);
        offset += buf.length;
        c.doneBytes = offset;
        for (const l of c.listeners) l();
        if (chunk.eof) {
          agentSha = chunk.sha256;
          break;
        }
        if (Date.now() - persisted > PERSIST_EVERY_MS) {
          persisted = Date.now();
          await updateTransfer(this.sql, t.id, { doneBytes: offset, wireBytes: wire });
        }
      }
      await fd.close();
      fd = undefined;
      const sha256 = hasher.digest("hex");
      if (offset !== t.size || !agentSha || agentSha !== sha256)
        throw Object.assign(new Error(`SHA-256 ${sha256} of what arrived, the device read ${agentSha ?? "nothing"}`), {
          code: "CHECKSUM_MISMATCH",
        });
      await this.setState(t, c, { state: "done", doneBytes: offset, wireBytes: wire, sha256 });
      await this.audit(t, "done", { outcome: "ok", bytes: offset, sha256, wireBytes: wire });
      await this.forward({ ...t, sha256 });
    } catch (err) {
      await fd?.close().catch(() => undefined);
      await this.finish(t, c, err, wire);
    }
  }

  private async upload(t: TransferRow, c: Control): Promise<void> {
    const file = join(this.uploadsDir, t.stagingName);
    let fd: FileHandle | undefined;
    let wire = t.wireBytes;
    try {
      fd = await open(file, "r");
      const own = new TokenBucket(t.rateLimitBps ?? 0);
      const gov = new RttGovernor(t.rateLimitBps ?? (await this.deviceCap(t.deviceId)));
      const status = () =>
        this.call(t, c, { op: "write_status", transferId: t.id, path: t.path, overwrite: t.overwrite, elevated: t.elevated }, WriteOffset);
      // the device's partial file says where to resume
      let offset = (await status()).offset;
      let hasher = new Bun.CryptoHasher("sha256");
      let hashedTo = 0;
      const openFd = fd;
      /** A chunk of the staged file, read; the next one is prepared while the device writes this one. */
      const prepare = async (at: number) => {
        const length = Math.min(gov.chunkBytes(MAX_CHUNK_BYTES), t.size - at);
        const buf = Buffer.allocUnsafe(length);
        const { bytesRead } = await openFd.read(buf, 0, length, at);
        if (bytesRead !== length) throw Object.assign(new Error("the staged upload is shorter than recorded"), { code: "STAGING_LOST" });
        return { at, length, buf };
      };
      /** Socket bytes per file byte of the last chunk (its frame included; ~4/3 for an agent taking base64). */
      let wireRatio = 1;
      let ahead: ReturnType<typeof prepare> | undefined;
      let persisted = 0;
      while (offset < t.size || hashedTo < t.size) {
        if (offset > t.size)
          throw Object.assign(new Error("the device's partial file is longer than the upload"), { code: "OFFSET_MISMATCH" });
        if (hashedTo !== offset) {
          hasher = new Bun.CryptoHasher("sha256");
          await hashFile(fd, hasher, offset);
          hashedTo = offset;
          await this.setState(t, c, { state: "running", doneBytes: offset });
          if (offset === t.size) break;
        }
        const ready = ahead ? await ahead : undefined;
        const { length, buf } = ready?.at === offset ? ready : await prepare(offset);
        ahead = offset + length < t.size ? prepare(offset + length) : undefined;
        ahead?.catch(() => undefined); // awaited next round
        const estimate = Math.ceil(length * wireRatio);
        await this.pace(t, own, gov, estimate);
        const t0 = performance.now();
        let next: number;
        try {
          const reply = await this.callWithBytes(
            t,
            c,
            { op: "write", transferId: t.id, path: t.path, offset, elevated: t.elevated },
            WriteOffset,
            () => {
              wire += length;
            },
            buf,
          );
          next = reply.data.offset;
          const onWire = reply.wireBytes ?? Math.ceil(length / 3) * 4 + TEXT_RESULT_OVERHEAD_BYTES;
          this.charge(t, own, onWire - estimate);
          wireRatio = onWire / Math.max(1, length);
        } catch (err) {
          if ((err as { code?: string }).code !== "OFFSET_MISMATCH") throw err;
          // the partial file is not where we thought (a cut after the device wrote, or it was removed): ask again
          offset = (await status()).offset;
          hashedTo = -1;
          continue;
        }
        gov.observe(length, performance.now() - t0);
        if (next !== offset + length) {
          offset = next;
          hashedTo = -1;
          continue;
        }
        hasher.update(buf);
        offset = next;
        hashedTo = offset;
        c.doneBytes = offset;
        for (const l of c.listeners) l();
        if (Date.now() - persisted > PERSIST_EVERY_MS) {
          persisted = Date.now();
          await updateTransfer(this.sql, t.id, { doneBytes: offset, wireBytes: wire, state: "running" });
        }
      }
      const sha256 = hasher.digest("hex");
      if (t.sha256 && t.sha256 !== sha256)
        throw Object.assign(new Error(`the upload's SHA-256 is ${sha256}, the browser said ${t.sha256}`), { code: "CHECKSUM_MISMATCH" });
      const done = await this.call(
        t,
        c,
        { op: "write_commit", transferId: t.id, path: t.path, size: t.size, sha256, overwrite: t.overwrite, elevated: t.elevated },
        WriteDone,
      );
      await fd.close();
      fd = undefined;
      await this.setState(t, c, { state: "done", doneBytes: t.size, wireBytes: wire, sha256: done.sha256 });
      await this.audit(t, "done", { outcome: "ok", bytes: t.size, sha256, wireBytes: wire });
      await this.removeUpload(t.stagingName);
    } catch (err) {
      await fd?.close().catch(() => undefined);
      await this.finish(t, c, err, wire);
    }
  }

  /** A transfer row as this process sees it now (live progress over the database's). */
  async fresh(id: string): Promise<TransferRow | undefined> {
    const t = await transferById(this.sql, id);
    const l = t && this.live(id);
    return t && l ? { ...t, doneBytes: l.doneBytes, state: l.state } : t;
  }
}

/** Feeds the hasher the first `length` bytes of the file. */
async function hashFile(fd: FileHandle, hasher: Bun.CryptoHasher, length: number): Promise<void> {
  const buf = Buffer.allocUnsafe(1_048_576);
  for (let at = 0; at < length; ) {
    const { bytesRead } = await fd.read(buf, 0, Math.min(buf.length, length - at), at);
    if (bytesRead === 0) break;
    hasher.update(buf.subarray(0, bytesRead));
    at += bytesRead;
  }
}
