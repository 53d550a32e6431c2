import { ToolboxError } from "./types.ts";

export interface RunResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** True when stdout passed `maxBytes` and the program was stopped. */
  truncated: boolean;
}

export interface RunOptions {
  timeoutMs?: number;
  /** Bytes of stdout kept; past them the program is killed (its output so far is kept). */
  maxBytes?: number;
  /** Extra environment variables: how values reach PowerShell scripts without entering their text. */
  env?: Record<string, string>;
}

/** How long the output of a program that has exited may still take to arrive. */
const AFTER_EXIT_MS = 1000;
/** Bytes of stderr kept, for the error message only. */
const MAX_STDERR = 8192;

/**
 * Runs an argument vector (never a shell string) with a deadline and bounded output, and reports
 * its exit code instead of throwing on a non-zero one. A program that cannot start →
 * ToolboxError `COMMAND_UNAVAILABLE`.
 */
export async function run(argv: readonly string[], o: RunOptions = {}): Promise<RunResult> {
  const maxBytes = o.maxBytes ?? 4 * 1024 * 1024;
  let proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  try {
    proc = Bun.spawn([...argv], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      timeout: o.timeoutMs ?? 20_000,
      windowsHide: true,
      env: o.env ? { ...process.env, ...o.env } : undefined,
    });
  } catch (e) {
    throw new ToolboxError("COMMAND_UNAVAILABLE", `${argv[0]} could not start: ${(e as Error).message}`);
  }
  const read = async (stream: ReadableStream<Uint8Array>, limit: number, onLimit: () => void) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    let over = false;
    for await (const chunk of stream) {
      if (over) continue;
      const room = limit - size;
      if (chunk.byteLength > room) {
        chunks.push(chunk.subarray(0, room));
        size = limit;
        over = true;
        onLimit();
      } else {
        chunks.push(chunk);
        size += chunk.byteLength;
      }
    }
    return { text: Buffer.concat(chunks).toString("utf8"), over };
  };
  const streams = Promise.all([read(proc.stdout, maxBytes, () => proc.kill()), read(proc.stderr, MAX_STDERR, () => undefined)]);
  const exitCode = await proc.exited;
  // a daemon started by an init script may keep our pipes open: read what came, then let go
  const done = await Promise.race([streams, Bun.sleep(AFTER_EXIT_MS).then(() => undefined)]);
  if (!done) {
    void proc.stdout.cancel().catch(() => undefined);
    void proc.stderr.cancel().catch(() => undefined);
  }
  const [out, err] = done ?? [
    { text: "", over: false },
    { text: "", over: false },
  ];
  return { exitCode: out.over ? null : exitCode, stdout: out.text, stderr: err.text, truncated: out.over };
}

/** The first line of a program's complaint, for an error message. */
export function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .find(Boolean)
      ?.slice(0, 300) ?? ""
  );
}
