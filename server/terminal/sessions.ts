import { writeAudit } from "../audit/store.ts";
import type { Sql } from "postgres";
import type { AgentHub } from "../agents/hub.ts";
import { log } from "../log.ts";
import type { TerminalEvent } from "../protocol/terminal.ts";
import { endSession, insertSession } from "./store.ts";

/** Recording kept per session, at most (bytes of asciicast); later output is not recorded. */
const MAX_RECORDING = 5 * 1024 * 1024;

/** What the browser receives (the route adds the envelope). */
type BrowserFrame = TerminalEvent;

/** What the agent's node sends the browser's node about a session (cluster only). */
export type TerminalRelay =
  | { kind: "output"; deviceId: string; sessionId: string; data: string }
  | { kind: "exit"; deviceId: string; sessionId: string; code: number | null; error?: string }
  | { kind: "gone"; deviceId: string };

interface Session {
  id: string;
  organizationId: string;
  deviceId: string;
  userId: string | null;
  send(f: BrowserFrame): void;
  close(): void;
  startedAt: number;
  lastActivity: number;
  recording: string[];
  recordedBytes: number;
  truncated: boolean;
  /** The row and audit entry of the opening; the end is written after it. */
  persisted: Promise<void>;
}

/**
 * Live terminal sessions of this node: browser socket ↔ agent PTY. Each is bound to the user who
 * opened it, recorded as asciicast v2, audited at open and close, and closed after `idleS` without
 * input or output.
 */
export class TerminalHub {
  private readonly sessions = new Map<string, Session>();
  private readonly timer: ReturnType<typeof setInterval>;

  /**
   * In a cluster: the browser's node is told a session opened or ended (it listens for the session's
   * output), and the agent's node relays what the agent sends for sessions it does not hold.
   */
  cluster: { sessionOpened(id: string): void; sessionEnded(id: string): void; relay(r: TerminalRelay): void } | undefined;

  constructor(
    private readonly sql: Sql,
    private readonly agents: AgentHub,
    private readonly idleS: number,
  ) {
    this.timer = setInterval(() => this.closeIdle(), Math.min(5000, idleS * 500));
  }

  /**
   * Opens a session and returns its id at once (input may follow immediately); the database row
   * and the audit entry are written in the background, before the session's end is.
   */
  open(o: {
    organizationId: string;
    deviceId: string;
    userId: string | null;
    cols: number;
    rows: number;
    send(f: BrowserFrame): void;
    close(): void;
  }): string | undefined {
    if (!this.agents.isConnected(o.deviceId)) {
      o.send({ type: "error", message: "the device is not connected; a terminal needs its live socket" });
      o.close();
      return undefined;
    }
    const id = crypto.randomUUID();
    const now = Date.now();
    const header = JSON.stringify({
      version: 2,
      width: o.cols,
      height: o.rows,
      timestamp: Math.floor(now / 1000),
      env: { TERM: "xterm-256color" },
    });
    const persisted = (async () => {
      await insertSession(this.sql, {
        id,
        organizationId: o.organizationId,
        deviceId: o.deviceId,
        userId: o.userId,
        cols: o.cols,
        rows: o.rows,
      });
      await writeAudit(this.sql, {
        organizationId: o.organizationId,
        actorType: "user",
        actorId: o.userId,
        action: "terminal.opened",
        targetType: "device",
        targetId: o.deviceId,
        details: { sessionId: id },
      });
    })().catch((err) => log("error", "could not record a terminal session", { sessionId: id, error: String(err) }));
    this.sessions.set(id, {
      ...o,
      id,
      startedAt: now,
      lastActivity: now,
      recording: [header],
      recordedBytes: header.length,
      truncated: false,
      persisted,
    });
    this.cluster?.sessionOpened(id);
    this.agents.send(o.deviceId, { type: "terminal_open", data: { sessionId: id, cols: o.cols, rows: o.rows } });
    return id;
  }

  input(id: string, data: string): void {
    const t = this.sessions.get(id);
    if (!t) return;
    t.lastActivity = Date.now();
    this.record(t, "i", data);
    this.agents.send(t.deviceId, { type: "terminal_input", data: { sessionId: id, data } });
  }

  resize(id: string, cols: number, rows: number): void {
    const t = this.sessions.get(id);
    if (!t) return;
    this.record(t, "r", `${cols}x${rows}`);
    this.agents.send(t.deviceId, { type: "terminal_resize", data: { sessionId: id, cols, rows } });
  }

  /** Output from the agent, for one of this device's sessions (relayed to the session's node when it is not here). */
  output(deviceId: string, id: string, data: string, fromOtherNode = false): void {
    const t = this.sessions.get(id);
    if (!t && !fromOtherNode) this.cluster?.relay({ kind: "output", deviceId, sessionId: id, data });
    if (!t || t.deviceId !== deviceId) return;
    t.lastActivity = Date.now();
    this.record(t, "o", data);
    t.send({ type: "output", data });
  }

  /** The shell ended on the agent. */
  exited(deviceId: string, id: string, code: number | null, error?: string, fromOtherNode = false): void {
    const t = this.sessions.get(id);
    if (!t && !fromOtherNode) this.cluster?.relay({ kind: "exit", deviceId, sessionId: id, code, ...(error ? { error } : {}) });
    if (!t || t.deviceId !== deviceId) return;
    if (error) t.send({ type: "error", message: error });
    t.send({ type: "exit", code });
    void this.finish(t, error ? `error: ${error}` : `exit ${code}`, false);
  }

  /** The browser went away (or asked to close): end the shell on the agent. */
  browserClosed(id: string): void {
    const t = this.sessions.get(id);
    if (t) void this.finish(t, "closed by the user", true);
  }

  /** The agent's socket dropped: its shells are gone (sessions opened from other nodes are told). */
  agentGone(deviceId: string, fromOtherNode = false): void {
    if (!fromOtherNode) this.cluster?.relay({ kind: "gone", deviceId });
    for (const t of [...this.sessions.values()]) {
      if (t.deviceId !== deviceId) continue;
      t.send({ type: "error", message: "the device disconnected" });
      t.send({ type: "exit", code: null });
      void this.finish(t, "device disconnected", false);
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private closeIdle(): void {
    const cutoff = Date.now() - this.idleS * 1000;
    for (const t of [...this.sessions.values()]) {
      if (t.lastActivity > cutoff) continue;
      t.send({ type: "error", message: `closed after ${this.idleS} s without activity` });
      t.send({ type: "exit", code: null });
      void this.finish(t, "idle timeout", true);
    }
  }

  private record(t: Session, kind: "i" | "o" | "r", data: string): void {
    if (t.truncated) return;
    const line = JSON.stringify([(Date.now() - t.startedAt) / 1000, kind, data]);
    if (t.recordedBytes + line.length > MAX_RECORDING) {
      t.truncated = true;
      return;
    }
    t.recording.push(line);
    t.recordedBytes += line.length + 1;
  }

  private async finish(t: Session, reason: string, tellAgent: boolean): Promise<void> {
    if (!this.sessions.delete(t.id)) return;
    this.cluster?.sessionEnded(t.id);
    if (tellAgent) this.agents.send(t.deviceId, { type: "terminal_close", data: { sessionId: t.id } });
    t.close();
    try {
      await t.persisted;
      await endSession(this.sql, t.id, reason, `${t.recording.join("\n")}\n`, t.truncated);
      await writeAudit(this.sql, {
        organizationId: t.organizationId,
        actorType: "user",
        actorId: t.userId,
        action: "terminal.closed",
        targetType: "device",
        targetId: t.deviceId,
        details: { sessionId: t.id, reason, seconds: Math.round((Date.now() - t.startedAt) / 1000) },
      });
    } catch (err) {
      log("error", "could not store a terminal session", { sessionId: t.id, error: String(err) });
    }
  }
}
