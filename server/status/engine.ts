import type { Sql } from "postgres";
import type { EventBus } from "../events/bus.ts";
import type { LiveHub } from "../live/hub.ts";
import { log } from "../log.ts";
import type { StatusScope, StatusWindows } from "../devices/status.store.ts";
import { heartbeatNode, holdAndResolve, type OfflineAlert, sweepStatus } from "./store.ts";
import type { StatusChange } from "../devices/status.store.ts";

/** Status changes logged one line each, at most, per sweep or batch; beyond, one summary line. */
const MAX_LOGGED_CHANGES = 20;

/**
 * Keeps device status current: a sweep every `intervalMs` catches silence (online → unresponsive
 * → offline). Most sweeps look only at the devices time can have moved (`StatusScope` `{ recentS }`:
 * telemetry or last contact that aged past a window lately, found through indexes); one every
 * `fullEveryMs`, the first, and those of the reconnect window and the one after it look at every
 * device (at 100,000 devices ~120–155 ms of PostgreSQL a full pass, ~1 ms a recent one;
 * docs/benchmarks.md). The flips of a connect storm cost no statement of their own: a socket opened sets its
 * device's status in the statement that records it (`hold`), and the telemetry flush that stores a held
 * device's first recent sample sets it online (`telemetry_flush`, changes given to `announce`).
 * `touch(deviceId)` re-evaluates a device soon after its socket closed or a beacon came; touches are
 * gathered for `batchMs` and applied in one transaction, one batch after another.
 * Every change and every offline alert is pushed to the organization's dashboards.
 */
export class StatusEngine {
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Devices touched since the open batch started, and the promise of that batch's commit. */
  private batch: { ids: Set<string>; done: Promise<void> } | undefined;
  /** Touch batches run one after another. */
  private touchChain: Promise<void> = Promise.resolve();
  /** Touch batches applied and devices in them, for /metrics and benchmarks. */
  readonly touchStats = { batches: 0, devices: 0 };

  constructor(
    private readonly sql: Sql,
    private readonly nodeId: string,
    private readonly windows: StatusWindows,
    private readonly live: LiveHub,
    /** Every batch of status changes goes out as `device.status` after it is written. */
    private readonly bus: EventBus,
    private readonly intervalMs = 2000,
    private readonly batchMs = 200,
    /**
     * Seconds after start during which sweeps keep online devices online until their sockets are back
     * (the agents' reconnect window, so a restart does not flip the whole fleet to unresponsive and back).
     */
    private readonly restartGraceS: () => number = () => 0,
    /** A sweep over every device at least this often (the net under the recent sweeps). */
    private readonly fullEveryMs = 30_000,
  ) {}

  private graceUntil = 0;
  /** When the last full sweep started (0: none yet, the next one is). */
  private lastFullAt = 0;
  /** Sweeps run by this node, and the full ones among them. */
  readonly sweepStats = { sweeps: 0, full: 0 };

  /** Whether this node runs the full sweep now (in a cluster, one node at a time holds it); the heartbeat runs regardless. */
  duty: () => boolean = () => true;

  start(): void {
    this.graceUntil = Date.now() + this.restartGraceS() * 1000;
    this.timer = setInterval(() => void this.sweep(), this.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** One full sweep (skipped when the previous one is still running), plus this node's heartbeat. */
  sweep(): Promise<void> {
    this.running ??= (async () => {
      try {
        await heartbeatNode(this.sql, this.nodeId);
        if (!this.duty()) {
          // another node sweeps: when this one takes over, it starts with a full sweep
          this.lastFullAt = 0;
          return;
        }
        const now = Date.now();
        const grace = now < this.graceUntil;
        // the sweep after the reconnect window is full too: devices it kept online went quiet during it
        const full = grace || now - this.lastFullAt >= this.fullEveryMs;
        if (full) this.lastFullAt = grace ? 0 : now;
        this.sweepStats.sweeps++;
        if (full) this.sweepStats.full++;
        // looking back over three sweeps' intervals (at least 10 s): one that failed or ran late misses nothing
        await this.apply(full ? "all" : { recentS: Math.max(10, (3 * this.intervalMs) / 1000) }, grace);
      } catch (err) {
        log("error", "status sweep failed", {
          error: err instanceof Error ? err.message : String(err),
        });
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /**
   * Re-evaluates a device in the next batch (within `batchMs`); resolves once that batch is written.
   * Never rejects: a failed batch is logged.
   */
  touch(deviceId: string): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (!this.batch) {
      const ids = new Set<string>();
      const done = new Promise<void>((resolve) => {
        setTimeout(() => {
          this.batch = undefined;
          this.touchChain = this.touchChain.then(() => this.applyBatch([...ids])).then(resolve);
        }, this.batchMs);
      });
      this.batch = { ids, done };
    }
    this.batch.ids.add(deviceId);
    return this.batch.done;
  }

  /** Changes written by telemetry flushes, announced together (at most one `device.status` per `batchMs`). */
  private later: StatusChange[] = [];
  private laterTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Status changes another writer already committed (a telemetry flush setting devices online): pushed
   * and published within `batchMs`, gathered, so a connect storm's hundreds of flushes a second make a
   * few events a second for the reactions.
   */
  announceLater(changes: StatusChange[]): void {
    this.later.push(...changes);
    this.laterTimer ??= setTimeout(() => this.announceGathered(), this.batchMs);
  }

  private announceGathered(): void {
    clearTimeout(this.laterTimer);
    this.laterTimer = undefined;
    const changes = this.later;
    this.later = [];
    if (changes.length > 0) this.announce(changes);
  }

  /** Resolves once the open touch batch, those queued and a running sweep are written (shutdown). */
  async idle(): Promise<void> {
    this.announceGathered();
    await this.batch?.done;
    await this.touchChain;
    await this.running;
  }

  private async applyBatch(ids: string[]): Promise<void> {
    this.touchStats.batches++;
    this.touchStats.devices += ids.length;
    try {
      await this.apply(ids);
    } catch (err) {
      log("error", "status update failed", {
        devices: ids.length,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  /**
   * Sockets just opened on this node: held here and their status set in the same statement (no flip
   * left for a later sweep or touch), offline alerts of returning devices resolved, the changes pushed.
   * Resolves with each device's last stored batch sequence.
   */
  async hold(deviceIds: string[]): Promise<Map<string, number>> {
    const { marks, changes, alerts } = await holdAndResolve(this.sql, this.windows, deviceIds, this.nodeId);
    this.announce(changes, alerts);
    return marks;
  }

  private async apply(scope: StatusScope, keepOnline = false): Promise<void> {
    const { changes, alerts } = await sweepStatus(this.sql, this.windows, scope, keepOnline);
    this.announce(changes, alerts);
  }

  /** Status changes and offline alerts, written: logged (bounded), pushed to dashboards, published on the bus. */
  announce(changes: StatusChange[], alerts: OfflineAlert[] = []): void {
    const at = new Date().toISOString();
    for (const c of changes.slice(0, MAX_LOGGED_CHANGES)) log("info", "device status", { deviceId: c.id, from: c.previous, to: c.status });
    if (changes.length > MAX_LOGGED_CHANGES) {
      const counts: Record<string, number> = {};
      for (const c of changes) counts[`${c.previous}→${c.status}`] = (counts[`${c.previous}→${c.status}`] ?? 0) + 1;
      log("info", "device status changes", { changes: changes.length, counts });
    }
    for (const c of changes) {
      this.live.publish(c.organizationId, {
        type: "device.status",
        deviceId: c.id,
        hostname: c.hostname,
        status: c.status,
        previous: c.previous,
        at,
      });
    }
    if (changes.length > 0) this.bus.publish("device.status", { changes, at: Date.parse(at) });
    for (const a of alerts) {
      this.live.publish(a.organizationId, {
        type: a.resolved ? "alert.resolved" : "alert.created",
        alertId: a.id,
        deviceId: a.deviceId,
        alertType: "offline",
        severity: a.severity,
        message: a.message,
      });
    }
  }
}
