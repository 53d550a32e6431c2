import { Cron } from "croner";
import type { Sql } from "postgres";
import type { AgentHub } from "../agents/hub.ts";
import type { Actor } from "../audit/actor.ts";
import type { EventBus } from "../events/bus.ts";
import { AppError } from "../errors.ts";
import { log } from "../log.ts";
import { complianceSummary, organizationsWithPatches, snapshotCompliance } from "./compliance.store.ts";
import { type PatchPolicy, claimWindow, devicesDueScan, policyDevices, recordWindowWork, windowedPolicies } from "./policies.store.ts";
import type { Patches } from "./service.ts";
import { approvedForInstall } from "./updates.store.ts";

/** Install attempts per update before it waits for a person. */
const MAX_ATTEMPTS = 3;
/** Devices one window reaches at most (the rest wait for the next one). */
const MAX_WINDOW_DEVICES = 20_000;
/** Scans started per tick, and at once. */
const SCANS_PER_TICK = 16;
const SCAN_CONCURRENCY = 4;
/** How often devices due a scan are looked for, ms (a scan interval is at least an hour). */
const SCAN_CHECK_EVERY_MS = 30_000;
/** How often today's compliance point is rewritten, ms. */
const SNAPSHOT_EVERY_MS = 60 * 60_000;

/** The occurrence of a window open at `now` (start and end), or undefined; throws on a bad expression. */
export function openWindowAt(
  w: { cron: string; durationMinutes: number; timezone: string },
  now: Date,
): { startsAt: Date; endsAt: Date } | undefined {
  const [start] = new Cron(w.cron, { timezone: w.timezone, paused: true }).previousRuns(1, now);
  if (!start) return undefined;
  const endsAt = new Date(start.getTime() + w.durationMinutes * 60_000);
  return now < endsAt ? { startsAt: start, endsAt } : undefined;
}

/**
 * Patch management's clock: opens maintenance windows (each occurrence claimed once across server
 * processes, then one install command per device with approved updates, expiring at the window's
 * end, so a device offline for the whole window catches up at its next one), scans connected devices
 * whose last scan is older than their policy's interval, and writes today's compliance point.
 */
export class PatchScheduler {
  private timer: ReturnType<typeof setInterval> | undefined;
  private busy: Promise<void> | undefined;
  private lastSnapshot = 0;
  private lastScanCheck = 0;

  constructor(
    private readonly sql: Sql,
    private readonly agents: AgentHub,
    private readonly patches: Patches,
    private readonly intervalMs: number,
    /** Where `schedule.wake` goes: the window's offline devices are woken through a neighbour (toolbox). */
    private readonly bus: EventBus,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Resolves when the tick in flight (if any) is done. */
  idle(): Promise<void> {
    return this.busy ?? Promise.resolve();
  }

  tick(): Promise<void> {
    if (this.busy) return this.busy;
    this.busy = (async () => {
      try {
        await this.openWindows(new Date());
        if (Date.now() - this.lastScanCheck >= SCAN_CHECK_EVERY_MS) {
          this.lastScanCheck = Date.now();
          await this.scanDue();
        }
        if (Date.now() - this.lastSnapshot >= SNAPSHOT_EVERY_MS) {
          this.lastSnapshot = Date.now();
          await snapshotCompliance(this.sql, await organizationsWithPatches(this.sql), (org) =>
            complianceSummary(this.sql, org, null, {}, 14),
          );
        }
      } catch (err) {
        log("error", "patch scheduler tick failed", { error: err instanceof Error ? err.message : String(err) });
      } finally {
        this.busy = undefined;
      }
    })();
    return this.busy;
  }

  private async openWindows(now: Date): Promise<void> {
    for (const p of await windowedPolicies(this.sql)) {
      if (!p.window) continue;
      let open: { startsAt: Date; endsAt: Date } | undefined;
      try {
        open = openWindowAt(p.window, now);
      } catch {
        continue; // checked at save time; an expression croner no longer reads waits for a fix
      }
      if (open)
        await this.openWindow(p, open.startsAt, open.endsAt, { type: "schedule", id: p.id, name: `patch window of ${p.policyName}` });
    }
  }

  /**
   * Opens one occurrence of a policy's window (once: a second call for the same start does nothing):
   * every device under the policy gets its approved updates as one install command. Returns the work.
   */
  async openWindow(
    p: PatchPolicy,
    startsAt: Date,
    endsAt: Date,
    actor: Actor,
    ip?: string | null,
  ): Promise<{ opened: boolean; devices: number; updates: number }> {
    const runId = await claimWindow(this.sql, {
      organizationId: p.organizationId,
      patchPolicyId: p.id,
      startsAt,
      endsAt,
      openedBy: actor.type === "schedule" ? "schedule" : actor.name,
    });
    if (!runId) return { opened: false, devices: 0, updates: 0 };
    const devices = await policyDevices(this.sql, p.organizationId, p.id, MAX_WINDOW_DEVICES);
    const updates = await approvedForInstall(this.sql, p.organizationId, devices, MAX_ATTEMPTS);
    const commands = await this.patches.install({
      organizationId: p.organizationId,
      updates,
      actor,
      reboot: p.reboot,
      rebootDelaySeconds: p.rebootDelaySeconds,
      expiresInMs: Math.max(60_000, endsAt.getTime() - Date.now()),
      ip: ip ?? null,
    });
    await recordWindowWork(this.sql, runId, commands.length, updates.length);
    // devices that are not connected get their command when they come back within the window; try to wake them
    const asleep = commands.map((c) => c.deviceId).filter((id) => !this.agents.get(id));
    if (asleep.length > 0)
      this.bus.publish("schedule.wake", {
        organizationId: p.organizationId,
        scheduleId: p.id,
        scheduleName: `patch window of ${p.policyName}`,
        deviceIds: asleep,
      });
    log("info", "patch window opened", {
      patchPolicyId: p.id,
      startsAt: startsAt.toISOString(),
      devices: commands.length,
      updates: updates.length,
    });
    return { opened: true, devices: commands.length, updates: updates.length };
  }

  private async scanDue(): Promise<void> {
    const due = (await devicesDueScan(this.sql, SCANS_PER_TICK * 4)).filter((d) => this.agents.get(d.id)).slice(0, SCANS_PER_TICK);
    for (let i = 0; i < due.length; i += SCAN_CONCURRENCY)
      await Promise.all(
        due.slice(i, i + SCAN_CONCURRENCY).map(async (d) => {
          try {
            await this.patches.scan(d.organizationId, d.id, true);
          } catch (err) {
            if (!(err instanceof AppError)) throw err;
            log("warn", "scheduled patch scan failed", { deviceId: d.id, code: err.code });
          }
        }),
      );
  }
}
