import type { Services } from "../context.ts";
import { log } from "../log.ts";
import { PROTOCOL_VERSION, type CommandUpdate } from "../protocol/frames.ts";
import { type CommandRow, applyUpdate, markSent, pendingCommands } from "./store.ts";

/** The first non-empty line of a script's output, cut to a readable length. */
const firstLine = (text: string): string => (text.split("\n").find((l) => l.trim()) ?? "").trim().slice(0, 200);

/**
 * Delivery of commands: pushed at once to a device whose socket is on this node, otherwise kept
 * until the device says hello (then every pending one is sent, oldest first). The agent remembers
 * the ids it ran, so a command delivered twice still runs once.
 */
export class CommandDispatcher {
  constructor(private readonly s: Services) {}

  /** Sends each command now if its device is connected here; the others stay queued. */
  async dispatch(...commands: CommandRow[]): Promise<void> {
    const sent: string[] = [];
    for (const c of commands) {
      const conn = this.s.agents.get(c.deviceId);
      if (!conn) continue;
      conn.send({ v: PROTOCOL_VERSION, id: crypto.randomUUID(), type: "command", data: { commandId: c.id, spec: c.payload } });
      sent.push(c.id);
    }
    await markSent(this.s.sql, sent);
  }

  /** The device (re)connected: deliver everything it has not finished, in order. */
  async deliverPending(deviceId: string): Promise<void> {
    const conn = this.s.agents.get(deviceId);
    if (!conn) return;
    const pending = await pendingCommands(this.s.sql, deviceId);
    for (const c of pending)
      conn.send({ v: PROTOCOL_VERSION, id: crypto.randomUUID(), type: "command", data: { commandId: c.id, spec: c.payload } });
    await markSent(
      this.s.sql,
      pending.map((c) => c.id),
    );
  }

  /** Commands to hand out in a beacon response (the socket is down); marked sent. */
  async forBeacon(deviceId: string): Promise<{ commandId: string; spec: CommandRow["payload"] }[]> {
    const pending = await pendingCommands(this.s.sql, deviceId, 20);
    await markSent(
      this.s.sql,
      pending.map((c) => c.id),
    );
    return pending.map((c) => ({ commandId: c.id, spec: c.payload }));
  }

  private readonly chains = new Map<string, Promise<void>>();

  /**
   * An agent reported progress or an outcome. A device's updates are applied one after another in
   * arrival order: output sent just before the outcome must not lose the race to it.
   */
  update(deviceId: string, organizationId: string, u: CommandUpdate): Promise<void> {
    const next = (this.chains.get(deviceId) ?? Promise.resolve()).then(() => this.apply(deviceId, organizationId, u));
    const tail = next.catch(() => {});
    this.chains.set(deviceId, tail);
    void tail.then(() => {
      if (this.chains.get(deviceId) === tail) this.chains.delete(deviceId);
    });
    return next;
  }

  private async apply(deviceId: string, organizationId: string, u: CommandUpdate): Promise<void> {
    const row = await applyUpdate(this.s.sql, deviceId, u);
    if (!row) return; // not this device's, or already final (a repeated report)
    if (row.status !== "running" || u.stdout || u.stderr) {
      this.s.live.publish(organizationId, {
        type: "command.updated",
        commandId: row.id,
        deviceId,
        status: row.status,
        exitCode: row.exitCode,
        stdout: u.stdout ?? "",
        stderr: u.stderr ?? "",
      });
    }
    if (row.status === "running") return;
    log("info", "command finished", { commandId: row.id, deviceId, status: row.status, exitCode: row.exitCode });
    if (row.checkRuleId && (row.status === "succeeded" || row.status === "failed" || row.status === "timed_out")) {
      this.s.rules.submitCheck({
        organizationId,
        deviceId,
        ruleId: row.checkRuleId,
        // a check that hangs is a failing check
        exitCode: row.status === "timed_out" ? 124 : (row.exitCode ?? 1),
        at: (row.finishedAt ?? new Date()).getTime(),
        output: row.status === "timed_out" ? "timed out" : firstLine(row.stdout) || firstLine(row.stderr),
      });
    }
  }
}
