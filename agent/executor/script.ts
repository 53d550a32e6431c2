import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CommandSpec, ScriptLanguage } from "../../server/protocol/frames.ts";
import type { OsName } from "../platform/types.ts";

type RunScript = Extract<CommandSpec, { kind: "run_script" }>;

const EXTENSION: Record<ScriptLanguage, string> = { bash: ".sh", sh: ".sh", python: ".py", powershell: ".ps1" };

/** argv that runs a script file in its language on an OS. */
export function interpreterArgv(os: OsName, language: ScriptLanguage, file: string, args: string[]): string[] {
  switch (language) {
    case "bash":
      return ["bash", file, ...args];
    case "sh":
      return ["sh", file, ...args];
    case "python":
      return [os === "windows" ? "python" : "python3", file, ...args];
    case "powershell":
      return [
        os === "windows" ? "powershell.exe" : "pwsh",
        "-NoProfile",
        "-NonInteractive",
        "-ExecutionPolicy",
        "Bypass",
        "-File",
        file,
        ...args,
      ];
  }
}

export interface ScriptOutcome {
  status: "succeeded" | "failed" | "timed_out";
  exitCode?: number;
  error?: string;
}

/** Output bytes forwarded per stream, at most; the server stores up to the same bound. */
const MAX_FORWARDED = 1_048_576;

/**
 * Runs a script in its own process group, streaming stdout and stderr through `onOutput`; at the
 * timeout the whole group (the script and every child it started) is killed.
 */
export async function runScript(
  os: OsName,
  spec: RunScript,
  onOutput: (stream: "stdout" | "stderr", text: string) => void,
): Promise<ScriptOutcome> {
  const dir = mkdtempSync(join(tmpdir(), "sentpulse-run-"));
  const file = join(dir, `script${EXTENSION[spec.language]}`);
  writeFileSync(file, spec.content, { mode: 0o700 });
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    proc = Bun.spawn(interpreterArgv(os, spec.language, file, spec.args), {
      cwd: dir,
      env: { ...process.env, ...spec.env },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      detached: os !== "windows",
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    return { status: "failed", error: `could not start ${spec.language}: ${String(err).slice(0, 300)}` };
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killTree(os, proc.pid);
  }, spec.timeoutSeconds * 1000);
  const pump = async (stream: ReadableStream<Uint8Array>, name: "stdout" | "stderr") => {
    const decoder = new TextDecoder();
    let forwarded = 0;
    for await (const chunk of stream) {
      if (forwarded >= MAX_FORWARDED) continue; // keep draining so the script never blocks on a full pipe
      const text = decoder.decode(chunk, { stream: true }).slice(0, MAX_FORWARDED - forwarded);
      forwarded += text.length;
      if (text) onOutput(name, text);
    }
  };
  await Promise.all([
    pump(proc.stdout as ReadableStream<Uint8Array>, "stdout"),
    pump(proc.stderr as ReadableStream<Uint8Array>, "stderr"),
    proc.exited,
  ]);
  clearTimeout(timer);
  rmSync(dir, { recursive: true, force: true });
  if (timedOut) return { status: "timed_out", error: `killed after ${spec.timeoutSeconds} s` };
  const exitCode = proc.exitCode ?? -1; // null: ended by a signal
  return { status: exitCode === 0 ? "succeeded" : "failed", exitCode };
}

/** Kills a process and everything it started: its process group on Unix, taskkill /T on Windows. */
function killTree(os: OsName, pid: number): void {
  try {
    if (os === "windows") Bun.spawnSync(["taskkill", "/PID", String(pid), "/T", "/F"]);
    else process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}
