import { readFileSync } from "node:fs";
import type { EnvVar, Signal } from "../../server/protocol/toolbox.ts";
import { MAX_ENV_VARS } from "../../server/protocol/toolbox-limits.ts";
import { linuxAntivirus } from "../toolbox/antivirus.ts";
import { linuxSensors, readBatteries, smartDisks } from "../toolbox/health.ts";
import { ToolboxError, type PlatformToolbox } from "../toolbox/types.ts";
import { readJournal } from "./linux-journal.ts";
import { listLinuxProcesses } from "./linux-procs.ts";
import { linuxServiceAction, linuxServices, systemdRunning } from "./linux-services.ts";

/** Parses /etc/environment (pam_env's KEY=VALUE lines, values optionally quoted, # comments). */
export function parseEtcEnvironment(text: string): { key: string; value: string }[] {
  const out: { key: string; value: string }[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim().replace(/^export\s+/, "");
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m?.[1] || line.startsWith("#")) continue;
    out.push({ key: m[1], value: (m[2] ?? "").replace(/^(["'])(.*)\1$/, "$2") });
  }
  return out;
}

/** The variables of the system (/etc/environment) and of the agent's own process. */
export function unixEnvironment(etcEnvironment: string | undefined): EnvVar[] {
  const system = parseEtcEnvironment(etcEnvironment ?? "").map((v) => ({ scope: "system" as const, ...v }));
  const own = Object.entries(process.env)
    .filter((e): e is [string, string] => typeof e[1] === "string")
    .map(([key, value]) => ({ scope: "process" as const, key, value }));
  return [...system, ...own].map((v) => ({ ...v, key: v.key.slice(0, 256), value: v.value.slice(0, 8192) })).slice(0, MAX_ENV_VARS);
}

/**
 * Sends a POSIX signal to each pid (process.kill is the kill(2) system call, no program runs). A tree
 * (several pids, children first) is stopped whole before the first signal and continued after the
 * last, so a parent woken by its children's deaths can neither exit on its own before its turn nor
 * start new ones; a pending signal is delivered on the continue.
 */
export function signalEach(pids: number[], signal: Signal): number[] {
  const freeze = pids.length > 1 && signal !== "STOP" && signal !== "CONT";
  if (freeze) for (const pid of pids) quietly(pid, "SIGSTOP");
  const killed: number[] = [];
  try {
    for (const pid of pids) {
      try {
        process.kill(pid, `SIG${signal}`);
        killed.push(pid);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ESRCH") continue; // gone meanwhile
        if (code === "EPERM") throw new ToolboxError("PERMISSION_DENIED", `not allowed to signal process ${pid}`);
        throw err;
      }
    }
  } finally {
    if (freeze) for (const pid of pids) quietly(pid, "SIGCONT");
  }
  return killed;
}

/** A signal whose failure (the process gone, not ours) changes nothing for the caller. */
function quietly(pid: number, signal: "SIGSTOP" | "SIGCONT"): void {
  try {
    process.kill(pid, signal);
  } catch {}
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Linux: /proc, kill(2), systemd or SysV init scripts, the journal, /etc/environment. */
export const linuxToolbox: PlatformToolbox = {
  processes: async () => listLinuxProcesses(),
  kill: async (pids, signal) => signalEach(pids, signal),
  services: linuxServices,
  serviceAction: linuxServiceAction,
  eventLogs: (q) => readJournal(q, systemdRunning()),
  environment: async () => ({ items: unixEnvironment(readOptional("/etc/environment")) }),
  health: async () => {
    const [{ disks, notes }, av, sensors] = await Promise.all([smartDisks(), linuxAntivirus(), linuxSensors()]);
    const batteries = readBatteries();
    if (sensors.length === 0) notes.push("no hardware monitoring sensors (hwmon) on this machine");
    return { sensors, disks, batteries, antivirus: av.antivirus, notes: [...notes, ...av.notes] };
  },
};
