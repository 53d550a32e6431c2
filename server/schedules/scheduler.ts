import { Cron } from "croner";
import type { Sql } from "postgres";
import type { CommandDispatcher } from "../commands/service.ts";
import type { EventBus } from "../events/bus.ts";
import { withCurrentScript } from "../library/spec.ts";
import { log } from "../log.ts";
import { type ScheduleRow, advance, recordRun, runDue, targetDevices } from "./store.ts";

/** The next occurrence of a cron expression after `after`, in its time zone; throws on a bad expression. */
export function nextOccurrence(cron: string, timezone: string, after: Date): Date | null {
  return new Cron(cron, { timezone, paused: true }).nextRun(after);
}

/**
 * Runs due schedules: each due row is locked (`for update skip locked`), its occurrence recorded
 * once (unique per schedule and due time) and its next time set in the same transaction, so with
 * several server processes on one database every occurrence runs exactly once. Commands for
 * offline devices wait like any other (offline queueing).
 */
export class Scheduler {
  private timer: ReturnType<typeof setInterval> | undefined;
  private busy = false;

  /** Whether this node looks for due schedules now (in a cluster, one node at a time holds the duty). */
  duty: () => boolean = () => true;

  constructor(
    private readonly sql: Sql,
    private readonly commands: CommandDispatcher,
    /** Where a workflow occurrence goes (`schedule.due`), after its transaction committed. */
    private readonly bus: EventBus,
    private readonly intervalMs = 5000,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async tick(): Promise<void> {
    if (this.busy || !this.duty()) return;
    this.busy = true;
    try {
      const runs = await runDue(this.sql, 20, (tx, sch) => this.runOnce(tx, sch));
      const created = runs.flatMap((r) => r.commands);
      if (created.length > 0) await this.commands.dispatch(...created);
      // after the commit: the occurrence is recorded once, so its workflow runs once per device
      for (const { sch, devices } of runs) {
        if (sch.wake && devices.length > 0)
          this.bus.publish("schedule.wake", {
            organizationId: sch.organizationId,
            scheduleId: sch.id,
            scheduleName: sch.name,
            deviceIds: devices,
          });
        if (sch.workflowId)
          this.bus.publish("schedule.due", {
            organizationId: sch.organizationId,
            workflowId: sch.workflowId,
            deviceIds: devices,
            scheduleName: sch.name,
          });
      }
    } catch (err) {
      log("error", "scheduler failed", { error: err instanceof Error ? err.message : String(err) });
    } finally {
      this.busy = false;
    }
  }

  private async runOnce(tx: Sql, sch: ScheduleRow) {
    const dueAt = sch.nextRunAt ?? new Date();
    const next = sch.cron ? nextOccurrence(sch.cron, sch.timezone, new Date(Math.max(Date.now(), dueAt.getTime()))) : null;
    const devices = await targetDevices(tx, sch.organizationId, sch.target);
    const commands =
      devices.length && sch.spec
        ? await this.commands.record(tx, {
            organizationId: sch.organizationId,
            deviceIds: devices,
            spec: await withCurrentScript(tx, sch.organizationId, sch.spec, sch.scriptId),
            scriptId: sch.scriptId,
            actor: { type: "schedule", id: sch.id, name: sch.name },
            expiresInMs: 86_400_000,
          })
        : [];
    const first = await recordRun(tx, {
      scheduleId: sch.id,
      organizationId: sch.organizationId,
      dueAt,
      deviceCount: devices.length,
      commandIds: commands.map((c) => c.id),
    });
    if (!first) throw new Error(`schedule ${sch.id} occurrence ${dueAt.toISOString()} already ran`); // rolls back the commands
    await advance(tx, sch.id, dueAt, next);
    log("info", "schedule ran", { scheduleId: sch.id, dueAt: dueAt.toISOString(), devices: devices.length });
    return { sch, commands, devices };
  }
}
