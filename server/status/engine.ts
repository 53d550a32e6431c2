import type { Sql } from "postgres";
import type { EventBus } from "../events/bus.ts";
import type { LiveHub } from "../live/hub.ts";
import { log } from "../log.ts";
import type { StatusWindows } from "../devices/status.store.ts";
import { heartbeatNode, sweepStatus } from "./store.ts";

/**
 * Keeps device status current: a sweep every `intervalMs` catches silence (online → unresponsive
 * → offline), and `touch(deviceId)` re-evaluates one device at once on connect and disconnect.
 * Every change and every offline alert is pushed to the organization's dashboards.
 */
export class StatusEngine {
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly sql: Sql,
    private readonly nodeId: string,
    private readonly windows: StatusWindows,
    private readonly live: LiveHub,
    /** Every batch of status changes goes out as `device.status` after it is written. */
    private readonly bus: EventBus,
    private readonly intervalMs = 2000,
  ) {}

  start(): void {
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
        await this.apply();
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

  /** Re-evaluates one device now. */
  async touch(deviceId: string): Promise<void> {
    if (this.stopped) return;
    try {
      await this.apply(deviceId);
    } catch (err) {
      log("error", "status update failed", {
        deviceId,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  private async apply(deviceId?: string): Promise<void> {
    const { changes, alerts } = await sweepStatus(this.sql, this.windows, deviceId);
    const at = new Date().toISOString();
    for (const c of changes) {
      log("info", "device status", {
        deviceId: c.id,
        from: c.previous,
        to: c.status,
      });
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
