import { existsSync, readFileSync } from "node:fs";
import type { CommandSpec, CommandUpdate } from "../../server/protocol/frames.ts";
import { writeFileAtomic } from "../config.ts";
import { agentLog } from "../log.ts";
import type { Platform } from "../platform/types.ts";
import { runScript } from "./script.ts";

type Final = Pick<CommandUpdate, "commandId" | "status" | "exitCode" | "error">;

interface Journal {
  /** Commands started and not finished: after a crash they are reported failed, never rerun. */
  started: string[];
  /** The outcomes of recent commands, newest last; `reported` once sent on an open socket. */
  done: (Final & { reported: boolean })[];
}

/** Outcomes remembered to answer redeliveries, at most. */
const MAX_DONE = 1000;
/** How often buffered output is sent while a script runs, ms. */
const OUTPUT_FLUSH_MS = 250;

/**
 * Runs commands one at a time in the order they arrive, each exactly once: ids are journaled
 * (atomically, beside the config) before a command starts and when it ends, so a redelivery after
 * a reconnect or a restart is answered from the journal instead of running again.
 */
export class Executor {
  private journal: Journal;
  private readonly queue: { commandId: string; spec: CommandSpec; deadline: number | undefined }[] = [];
  private running = false;

  constructor(
    private readonly journalPath: string,
    private readonly platform: Platform,
    private readonly simulatePower: boolean,
    /** Sends an update; returns false when it could not be sent (socket down). */
    private readonly send: (u: CommandUpdate) => boolean,
    /** The server's time, epoch ms: command deadlines are on the server's clock. */
    private readonly serverNow: () => number = Date.now,
  ) {
    this.journal = load(journalPath);
    // anything still "started" was cut off by a crash or restart
    for (const id of this.journal.started)
      this.remember({ commandId: id, status: "failed", error: "the agent stopped while this command ran" });
    this.journal.started = [];
    this.save();
  }

  /**
   * A command from the server: queue it, or answer from the journal when it already ran. One whose
   * `deadline` (epoch ms, server time) has passed when its turn comes is reported `expired`, not run.
   */
  receive(commandId: string, spec: CommandSpec, deadline?: number): void {
    const done = this.journal.done.find((d) => d.commandId === commandId);
    if (done) {
      this.report(done);
      return;
    }
    if (this.journal.started.includes(commandId) || this.queue.some((q) => q.commandId === commandId)) return;
    this.queue.push({ commandId, spec, deadline });
    void this.drain();
  }

  /** The socket is back: send every outcome that could not be sent before. */
  flushUnreported(): void {
    for (const d of this.journal.done) if (!d.reported) this.report(d);
  }

  private report(d: Final & { reported: boolean }): void {
    const { reported: _, ...update } = d;
    if (this.send(update) && !d.reported) {
      d.reported = true;
      this.save();
    }
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        if (next.deadline !== undefined && this.serverNow() > next.deadline) this.expire(next.commandId, next.deadline);
        else await this.run(next.commandId, next.spec);
      }
    } finally {
      this.running = false;
    }
  }

  private async run(commandId: string, spec: CommandSpec): Promise<void> {
    this.journal.started.push(commandId);
    this.save();
    this.send({ commandId, status: "running" });
    let outcome: Omit<Final, "commandId">;
    if (spec.kind === "run_script" || spec.kind === "patch_install") {
      const buffered = { stdout: "", stderr: "" };
      const flush = () => {
        if (!buffered.stdout && !buffered.stderr) return;
        const u: CommandUpdate = { commandId, status: "running" };
        if (buffered.stdout) u.stdout = buffered.stdout;
        if (buffered.stderr) u.stderr = buffered.stderr;
        buffered.stdout = "";
        buffered.stderr = "";
        this.send(u);
      };
      const timer = setInterval(flush, OUTPUT_FLUSH_MS);
      const emit = (stream: "stdout" | "stderr", text: string) => {
        buffered[stream] += text;
        if (buffered[stream].length >= 60_000) flush();
      };
      outcome =
        spec.kind === "run_script"
          ? await runScript(this.platform.os, spec, emit)
          : // patching is loaded on the first install only
            await import("../patch/install.ts").then((m) => m.installUpdates(this.platform, spec, emit, this.simulatePower));
      clearInterval(timer);
      flush();
    } else {
      outcome = await this.power(spec);
    }
    this.journal.started = this.journal.started.filter((id) => id !== commandId);
    const final = this.remember({ commandId, ...outcome });
    this.report(final);
    agentLog("info", "command finished", { commandId, kind: spec.kind, status: outcome.status, exitCode: outcome.exitCode });
  }

  private expire(commandId: string, deadline: number): void {
    this.report(this.remember({ commandId, status: "expired", error: "its deadline passed before it could start" }));
    agentLog("warn", "command expired before it started", { commandId, deadline: new Date(deadline).toISOString() });
  }

  private async power(spec: Extract<CommandSpec, { kind: "reboot" | "shutdown" }>): Promise<Omit<Final, "commandId">> {
    const argv = this.platform.powerCommand(spec.kind, {
      delaySeconds: spec.delaySeconds,
      ...(spec.message ? { message: spec.message } : {}),
    });
    if (this.simulatePower) {
      agentLog("info", "power action simulated", { argv });
      return { status: "succeeded", exitCode: 0 };
    }
    const p = Bun.spawn(argv, { stdout: "ignore", stderr: "pipe" });
    const code = await p.exited;
    return code === 0
      ? { status: "succeeded", exitCode: 0 }
      : { status: "failed", exitCode: code, error: (await new Response(p.stderr).text()).slice(0, 1000) };
  }

  private remember(f: Final): Final & { reported: boolean } {
    const entry = { ...f, reported: false };
    this.journal.done.push(entry);
    if (this.journal.done.length > MAX_DONE) this.journal.done.splice(0, this.journal.done.length - MAX_DONE);
    this.save();
    return entry;
  }

  private save(): void {
    writeFileAtomic(this.journalPath, JSON.stringify(this.journal));
  }
}

function load(path: string): Journal {
  if (!existsSync(path)) return { started: [], done: [] };
  try {
    const j = JSON.parse(readFileSync(path, "utf8")) as Partial<Journal>;
    return { started: Array.isArray(j.started) ? j.started : [], done: Array.isArray(j.done) ? j.done : [] };
  } catch {
    agentLog("warn", "command journal unreadable; starting a new one", { path });
    return { started: [], done: [] };
  }
}
