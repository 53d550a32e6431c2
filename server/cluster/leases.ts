import type { KV } from "@nats-io/kv";
import { log } from "../log.ts";
import { DUTIES, type Duty } from "./types.ts";

/**
 * Cluster duties under leases in a NATS KV bucket (JetStream, so a lease outlives a NATS restart):
 * one key per duty holding the node's id, written with `create` (only when absent or expired) and
 * renewed with `update` at the revision this node wrote (only while still its own). The bucket's
 * max age is the lease's life: a node that dies or is cut from NATS stops renewing, and its key
 * expires after `ttlMs`. The holder counts its lease as good only until `ttlMs - marginMs` after the
 * request that last renewed it was sent — before the server can expire the key — so two nodes never
 * both believe they hold a duty.
 */
export class Leases {
  private readonly held = new Map<Duty, { revision: number; until: number }>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private pass: Promise<void> | undefined;

  constructor(
    private readonly kv: KV,
    private readonly nodeId: string,
    readonly ttlMs: number,
    private readonly renewMs: number,
    private readonly marginMs: number,
  ) {}

  start(): void {
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.renewMs);
  }

  holds(duty: Duty): boolean {
    const h = this.held.get(duty);
    return h !== undefined && Date.now() < h.until;
  }

  /** The duties this node holds now. */
  duties(): Duty[] {
    return DUTIES.filter((d) => this.holds(d));
  }

  /** One pass: renew what this node holds, try to take what nobody holds. */
  tick(): Promise<void> {
    this.pass ??= Promise.all(DUTIES.map((d) => this.claim(d))).then(() => {
      this.pass = undefined;
    });
    return this.pass;
  }

  private async claim(duty: Duty): Promise<void> {
    const h = this.held.get(duty);
    const sent = Date.now();
    try {
      const revision = h ? await this.kv.update(duty, this.nodeId, h.revision) : await this.kv.create(duty, this.nodeId);
      this.held.set(duty, { revision, until: sent + this.ttlMs - this.marginMs });
      if (!h) log("info", "cluster duty taken", { duty, node: this.nodeId });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (!message.includes("wrong last sequence")) {
        // NATS unreachable or slow: the lease runs out on its own unless a later renewal gets through
        if (h) log("warn", "cluster duty not renewed", { duty, error: message });
        return;
      }
      if (h) {
        this.held.delete(duty);
        log("warn", "cluster duty lost", { duty, node: this.nodeId });
      }
      await this.adopt(duty, sent);
    }
  }

  /** The key exists: still this node's (its revision was lost, e.g. across a reconnect)? Then renew it from there. */
  private async adopt(duty: Duty, sent: number): Promise<void> {
    const entry = await this.kv.get(duty).catch(() => null);
    if (entry?.operation !== "PUT" || entry.string() !== this.nodeId) return;
    const revision = await this.kv.update(duty, this.nodeId, entry.revision).catch(() => undefined);
    if (revision !== undefined) this.held.set(duty, { revision, until: sent + this.ttlMs - this.marginMs });
  }

  /** Stops renewing and gives the duties back, so a survivor takes them at once. */
  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.pass; // a pass in flight may still take a duty
    const held = [...this.held];
    this.held.clear();
    await Promise.all(held.map(([duty, h]) => this.kv.delete(duty, { previousSeq: h.revision }).catch(() => {})));
  }
}
