import type { Sql } from "postgres";
import type { CommandDispatcher } from "../commands/service.ts";
import { type FactsUpdate, updateFactsMany } from "../devices/facts.store.ts";
import { releaseSocketsOf } from "../devices/status.store.ts";
import type { EventBus } from "../events/bus.ts";
import { log } from "../log.ts";
import type { DeviceFacts } from "../protocol/telemetry.ts";
import type { StatusEngine } from "../status/engine.ts";
import type { AgentHub } from "./hub.ts";
import { devicesWithPendingCommands } from "./store.ts";

/** Devices handled in one statement, at most; more wait for the next batch. */
const MAX_BATCH = 2_000;

interface Opened {
  /** The device's last stored batch sequence, or undefined when its socket could not be recorded. */
  resolve(ackedSeq: number | undefined): void;
}

/**
 * The first-contact work of agent sockets, batched and kept off the telemetry path: sockets opened
 * (held by this node, each device's last stored batch read for its welcome), hellos (host facts written
 * where they changed, `device.changed` published once per batch for those, pending commands delivered,
 * due rotations started) and
 * sockets closed (released, status re-evaluated). Every `intervalMs` one batch is written with a
 * few statements, one batch after another; a storm of thousands of connections a second costs a few
 * statements a second, and telemetry acks never queue behind them for a pool connection.
 */
export class Arrivals {
  private opened = new Map<string, Opened[]>();
  private hellos = new Map<string, FactsUpdate & { rotationDue: boolean }>();
  private closed = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private chain: Promise<void> = Promise.resolve();
  /** Batches written and what they held, for benchmarks. */
  readonly stats = { batches: 0, opened: 0, hellos: 0, closed: 0 };

  constructor(
    private readonly d: {
      sql: Sql;
      nodeId: string;
      bus: EventBus;
      agents: AgentHub;
      commands: Pick<CommandDispatcher, "deliverPending">;
      status: Pick<StatusEngine, "hold" | "touch">;
      /** Starts a secret rotation for a device whose secret is due (connected, after its hello). */
      rotate(deviceId: string): void;
    },
    private readonly intervalMs = 50,
  ) {}

  /**
   * A socket opened: resolves with the device's last stored batch sequence once its socket is recorded,
   * or undefined when that failed (the caller closes the socket; the agent comes back later).
   */
  open(deviceId: string): Promise<number | undefined> {
    return new Promise((resolve) => {
      const waiting = this.opened.get(deviceId) ?? [];
      waiting.push({ resolve });
      this.opened.set(deviceId, waiting);
      this.closed.delete(deviceId);
      this.schedule();
    });
  }

  /** An agent said hello: its facts are written with the next batch, then its pending commands go out. */
  hello(deviceId: string, agentVersion: string, facts: DeviceFacts, rotationDue: boolean): void {
    this.hellos.set(deviceId, { id: deviceId, agentVersion, facts, rotationDue });
    this.schedule();
  }

  /** A device's last socket here closed: released with the next batch, then its status re-evaluated. */
  close(deviceId: string): void {
    this.closed.add(deviceId);
    this.schedule();
  }

  /** Resolves once everything queued so far is written (shutdown, tests). */
  async settled(): Promise<void> {
    while (this.timer || this.opened.size > 0 || this.hellos.size > 0 || this.closed.size > 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.run();
      await this.chain;
    }
    await this.chain;
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.run();
    }, this.intervalMs);
  }

  private run(): void {
    const opened = take(this.opened);
    const hellos = take(this.hellos);
    const closed = [...this.closed].slice(0, MAX_BATCH);
    for (const id of closed) this.closed.delete(id);
    if (this.opened.size + this.hellos.size + this.closed.size > 0) this.schedule();
    this.chain = this.chain
      .then(() => this.write(opened, hellos, closed))
      .catch((err) => log("error", "socket arrivals failed", { error: errorText(err) }));
  }

  private async write(
    opened: Map<string, Opened[]>,
    hellos: Map<string, FactsUpdate & { rotationDue: boolean }>,
    closed: string[],
  ): Promise<void> {
    this.stats.batches++;
    this.stats.opened += opened.size;
    this.stats.hellos += hellos.size;
    this.stats.closed += closed.length;
    // decided now, against the sockets this node holds: a close and a newer open of one device both queued leave it held
    const holding = [...opened.keys()].filter((id) => this.d.agents.get(id));
    const releasing = closed.filter((id) => !this.d.agents.get(id));
    let marks: Map<string, number> | undefined = new Map();
    try {
      // held with their status set (offline → unresponsive, or online when telemetry is recent): one transaction
      if (holding.length > 0) marks = await this.d.status.hold(holding);
    } catch (err) {
      marks = undefined;
      log("error", "could not record opened sockets", { devices: holding.length, error: errorText(err) });
    }
    for (const [id, waiting] of opened) for (const w of waiting) w.resolve(marks ? (marks.get(id) ?? 0) : undefined);

    if (hellos.size > 0) await this.writeHellos([...hellos.values()]);

    if (releasing.length > 0) {
      try {
        await releaseSocketsOf(this.d.sql, releasing, this.d.nodeId);
      } catch (err) {
        log("error", "could not release sockets", { devices: releasing.length, error: errorText(err) });
      }
      for (const id of releasing) void this.d.status.touch(id);
    }
  }

  private async writeHellos(updates: (FactsUpdate & { rotationDue: boolean })[]): Promise<void> {
    let changed: string[] = [];
    try {
      changed = await updateFactsMany(this.d.sql, updates);
    } catch {
      // one bad row fails the statement: write the rest one by one, naming the device that failed
      for (const u of updates) {
        await updateFactsMany(this.d.sql, [u]).then(
          (ids) => changed.push(...ids),
          (err) => log("error", "could not store host facts", { deviceId: u.id, error: errorText(err) }),
        );
      }
    }
    // only devices whose facts changed: after a restart nearly every hello repeats the stored facts, and
    // each event costs its subscribers (smart groups, dashboards' reach, list counts)
    const ids = updates.map((u) => u.id);
    const written = new Set(changed);
    if (written.size > 0) this.d.bus.publish("device.changed", { deviceIds: ids.filter((id) => written.has(id)) });
    for (const u of updates) if (u.rotationDue && this.d.agents.get(u.id)) this.d.rotate(u.id);
    try {
      for (const id of await devicesWithPendingCommands(this.d.sql, ids)) await this.d.commands.deliverPending(id);
    } catch (err) {
      log("error", "could not deliver pending commands", { devices: ids.length, error: errorText(err) });
    }
  }
}

/** Removes and returns up to MAX_BATCH entries of a map, oldest first. */
function take<V>(m: Map<string, V>): Map<string, V> {
  if (m.size <= MAX_BATCH) {
    const all = new Map(m);
    m.clear();
    return all;
  }
  const out = new Map<string, V>();
  for (const [k, v] of m) {
    if (out.size >= MAX_BATCH) break;
    out.set(k, v);
    m.delete(k);
  }
  return out;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
