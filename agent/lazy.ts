import { existsSync, readFileSync } from "node:fs";
import type { CommandSpec, CommandUpdate } from "../server/protocol/frames.ts";
import type { Executor } from "./executor/executor.ts";
import type { Platform } from "./platform/types.ts";
import type { TerminalSessions, TerminalSink } from "./terminal/sessions.ts";
import type { PulseOptions } from "./transport/pulse.ts";

type ExecutorPort = NonNullable<PulseOptions["executor"]>;
type TerminalPort = NonNullable<PulseOptions["terminals"]>;

/**
 * True when the command journal holds something the server has not heard: a command cut off by a
 * restart (reported failed once the executor loads) or an outcome not yet sent.
 */
export function journalHasUnreported(journalPath: string): boolean {
  if (!existsSync(journalPath)) return false;
  try {
    const j = JSON.parse(readFileSync(journalPath, "utf8")) as { started?: unknown[]; done?: { reported?: boolean }[] };
    return (j.started?.length ?? 0) > 0 || (j.done ?? []).some((d) => d.reported === false);
  } catch {
    return true; // the executor reads it, says it is unreadable and starts a new one
  }
}

/**
 * The command executor, evaluated when the first command arrives, or at the first welcome when its
 * journal holds outcomes to report: an agent nobody runs commands on never loads it. Calls keep
 * their order (each waits on the same load).
 */
export function lazyExecutor(
  journalPath: string,
  platform: Platform,
  simulatePower: boolean,
  send: (u: CommandUpdate) => boolean,
  serverNow: () => number,
): ExecutorPort {
  let loaded: Promise<Executor> | undefined;
  const load = () =>
    (loaded ??= import("./executor/executor.ts").then((m) => new m.Executor(journalPath, platform, simulatePower, send, serverNow)));
  return {
    receive(commandId: string, spec: CommandSpec, deadline?: number) {
      void load().then((e) => e.receive(commandId, spec, deadline));
    },
    flushUnreported() {
      if (loaded || journalHasUnreported(journalPath)) void load().then((e) => e.flushUnreported());
    },
  };
}

/** Terminal sessions, evaluated on the first `terminal_open` (bun-pty itself loads on the first open too). */
export function lazyTerminals(os: Platform["os"], sink: TerminalSink): TerminalPort {
  let loaded: Promise<TerminalSessions> | undefined;
  const load = () => (loaded ??= import("./terminal/sessions.ts").then((m) => new m.TerminalSessions(os, sink)));
  return {
    open: (sessionId, cols, rows) => load().then((t) => t.open(sessionId, cols, rows)),
    input: (sessionId, data) => void loaded?.then((t) => t.input(sessionId, data)),
    resize: (sessionId, cols, rows) => void loaded?.then((t) => t.resize(sessionId, cols, rows)),
    close: (sessionId) => void loaded?.then((t) => t.close(sessionId)),
    closeAll: () => void loaded?.then((t) => t.closeAll()),
  };
}
