import type { IPty } from "bun-pty";
import { agentLog } from "../log.ts";
import type { OsName } from "../platform/types.ts";

/** Terminals open at once on one agent, at most. */
const MAX_SESSIONS = 8;
/** Output sent per frame, at most (the protocol's bound). */
const MAX_CHUNK = 65_536;

export interface TerminalSink {
  output(sessionId: string, data: string): void;
  exit(sessionId: string, code: number | null, error?: string): void;
}

/** The user's shell: $SHELL (login) on Linux and macOS, PowerShell on Windows. */
function shellFor(os: OsName, env: Record<string, string | undefined> = process.env): { file: string; args: string[] } {
  if (os === "windows") return { file: "powershell.exe", args: ["-NoLogo"] };
  return { file: env.SHELL || (os === "darwin" ? "/bin/zsh" : "/bin/bash"), args: ["-l"] };
}

/**
 * PTY sessions multiplexed over the agent's socket. bun-pty (a native library) is loaded on the
 * first open only, so an agent nobody opens a terminal on never pays for it.
 */
export class TerminalSessions {
  private readonly sessions = new Map<string, IPty>();

  constructor(
    private readonly os: OsName,
    private readonly sink: TerminalSink,
  ) {}

  async open(sessionId: string, cols: number, rows: number): Promise<void> {
    if (this.sessions.has(sessionId)) return;
    if (this.sessions.size >= MAX_SESSIONS) {
      this.sink.exit(sessionId, null, `at most ${MAX_SESSIONS} terminals per device`);
      return;
    }
    try {
      const { spawn } = await import("bun-pty");
      const shell = shellFor(this.os);
      const pty = spawn(shell.file, shell.args, {
        name: "xterm-256color",
        cols,
        rows,
        cwd: process.env.HOME ?? (this.os === "windows" ? "C:\\" : "/"),
        env: { ...process.env, TERM: "xterm-256color", LANG: process.env.LANG ?? "C.UTF-8" } as Record<string, string>,
      });
      this.sessions.set(sessionId, pty);
      pty.onData((data) => {
        for (let i = 0; i < data.length; i += MAX_CHUNK) this.sink.output(sessionId, data.slice(i, i + MAX_CHUNK));
      });
      pty.onExit(({ exitCode }) => {
        this.sessions.delete(sessionId);
        this.sink.exit(sessionId, exitCode);
      });
      agentLog("info", "terminal opened", { sessionId });
    } catch (err) {
      this.sink.exit(sessionId, null, `could not start a shell: ${String(err).slice(0, 300)}`);
    }
  }

  input(sessionId: string, data: string): void {
    this.sessions.get(sessionId)?.write(data);
  }

  resize(sessionId: string, cols: number, rows: number): void {
    this.sessions.get(sessionId)?.resize(cols, rows);
  }

  close(sessionId: string): void {
    const pty = this.sessions.get(sessionId);
    if (!pty) return;
    this.sessions.delete(sessionId);
    pty.kill();
    agentLog("info", "terminal closed", { sessionId });
  }

  /** The socket dropped: the server has forgotten these sessions, so end them. */
  closeAll(): void {
    for (const id of [...this.sessions.keys()]) this.close(id);
  }
}
