import type { Sql } from "postgres";
import type { Actor } from "../audit/actor.ts";
import { auditActor, writeAudit } from "../audit/store.ts";
import type { AgentHub } from "../agents/hub.ts";
import type { CommandFinished, EventBus } from "../events/bus.ts";
import type { LiveHub } from "../live/hub.ts";
import { log } from "../log.ts";
import type { CommandDelivery, CommandSpec, CommandUpdate } from "../protocol/frames.ts";
import { type CommandRow, applyUpdate, insertCommands, markSent, pendingCommands, pendingCommandsOf } from "./store.ts";

/** A command for one or more devices of an organization, and who asks for it. */
export interface CommandRequest {
  organizationId: string;
  deviceIds: string[];
  spec: CommandSpec;
  /** The library script it runs, if any. */
  scriptId: string | null;
  actor: Actor;
  /** How long a device that is offline may still receive it, ms. */
  expiresInMs: number;
  /** Set on the runs of a script check. */
  checkRuleId?: string;
  /** The requesting address (API calls). */
  ip?: string | null;
}

/**
 * Delivery of commands: pushed at once to a device whose socket is on this node, otherwise kept
 * until the device says hello (then every pending one is sent, oldest first). The agent remembers
 * the ids it ran, so a command delivered twice still runs once.
 */
export class CommandDispatcher {
  constructor(
    private readonly sql: Sql,
    private readonly agents: AgentHub,
    private readonly live: LiveHub,
    /** Where `command.finished` goes. */
    private readonly bus: EventBus,
  ) {}

  /**
   * The one way a command comes to be, whoever asks (a route, a workflow, a check, a schedule):
   * inserted with its actor, audited, and pushed at once to the devices connected here.
   */
  async enqueue(r: CommandRequest): Promise<CommandRow[]> {
    const rows = await this.record(this.sql, r);
    await this.dispatch(...rows);
    return rows;
  }

  /** `enqueue` inside the caller's transaction: the caller dispatches the rows after its commit. */
  async record(sql: Sql, r: CommandRequest): Promise<CommandRow[]> {
    const rows = await insertCommands(sql, {
      organizationId: r.organizationId,
      deviceIds: r.deviceIds,
      spec: r.spec,
      scriptId: r.scriptId,
      actor: r.actor,
      expiresAt: new Date(Date.now() + r.expiresInMs),
      checkRuleId: r.checkRuleId ?? null,
    });
    if (rows.length === 0) return rows;
    const one = rows.length === 1 ? rows[0] : undefined;
    await writeAudit(sql, {
      ...auditActor(r.organizationId, r.actor),
      action: `command.${r.spec.kind}`,
      targetType: one ? "device" : undefined,
      targetId: one?.deviceId ?? null,
      ip: r.ip ?? null,
      details: {
        ...(one ? { commandId: one.id } : { devices: rows.length, commandIds: rows.slice(0, 50).map((c) => c.id) }),
        scriptId: r.scriptId,
        ...(r.checkRuleId ? { checkRuleId: r.checkRuleId } : {}),
        ...(r.spec.kind === "run_script"
          ? { language: r.spec.language, args: r.spec.args.length }
          : r.spec.kind === "patch_install"
            ? { updates: r.spec.updates.slice(0, 50).map((u) => `${u.name}=${u.version}`), reboot: r.spec.reboot }
            : { delaySeconds: r.spec.delaySeconds }),
      },
    });
    return rows;
  }

  /** Sends each command now if its device is connected here; the others stay queued. */
  async dispatch(...commands: CommandRow[]): Promise<void> {
    const sent: string[] = [];
    for (const c of commands) if (this.agents.send(c.deviceId, { type: "command", data: delivery(c) })) sent.push(c.id);
    await markSent(this.sql, sent);
  }

  /** The device (re)connected: deliver everything it has not finished, in order. */
  async deliverPending(deviceId: string): Promise<void> {
    if (!this.agents.get(deviceId)) return;
    const pending = await pendingCommands(this.sql, deviceId);
    for (const c of pending) this.agents.send(deviceId, { type: "command", data: delivery(c) });
    await markSent(
      this.sql,
      pending.map((c) => c.id),
    );
  }

  /**
   * Sends every pending command of these devices connected here again, oldest first (the agent runs
   * each once, so one it already has is only reported again). After the cluster's bus was cut, a
   * command forwarded from another node in the meantime may not have arrived.
   */
  async redeliver(deviceIds: string[]): Promise<number> {
    const here = deviceIds.filter((id) => this.agents.get(id));
    let sent = 0;
    for (let i = 0; i < here.length; i += 5000) {
      const pending = await pendingCommandsOf(this.sql, here.slice(i, i + 5000));
      for (const c of pending) if (this.agents.send(c.deviceId, { type: "command", data: delivery(c) })) sent++;
      await markSent(
        this.sql,
        pending.map((c) => c.id),
      );
    }
    return sent;
  }

  /** Commands to hand out in a beacon response (the socket is down); marked sent. */
  async forBeacon(deviceId: string): Promise<CommandDelivery[]> {
    const pending = await pendingCommands(this.sql, deviceId, 20);
    await markSent(
      this.sql,
      pending.map((c) => c.id),
    );
    return pending.map(delivery);
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
    // stored as Windows tools show them ($LASTEXITCODE): an unsigned code above 2^31 as its signed value
    const exitCode = u.exitCode !== undefined && u.exitCode > 2_147_483_647 ? u.exitCode - 4_294_967_296 : u.exitCode;
    const row = await applyUpdate(this.sql, deviceId, { ...u, exitCode });
    if (!row) return; // not this device's, or already final (a repeated report)
    if (row.status !== "running" || u.stdout || u.stderr) {
      this.live.publish(organizationId, {
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
    this.bus.publish("command.finished", {
      organizationId,
      deviceId,
      commandId: row.id,
      status: row.status as CommandFinished["status"],
      exitCode: row.exitCode,
      checkRuleId: row.checkRuleId,
      stdout: row.stdout,
      stderr: row.stderr,
      at: (row.finishedAt ?? new Date()).getTime(),
    });
  }
}

/** A command as the agent receives it: its deadline to start is the command's expiry. */
function delivery(c: CommandRow): CommandDelivery {
  return { commandId: c.id, spec: c.payload, deadline: c.expiresAt.getTime() };
}
