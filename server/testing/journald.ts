import { existsSync, lstatSync, readdirSync, readFileSync, symlinkSync, unlinkSync } from "node:fs";
import type { Subprocess } from "bun";
import { waitFor } from "./harness.ts";

const readText = (path: string) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
};

/** True when a systemd-journald runs (its socket files may outlive it, so the process is looked for). */
function journaldRunning(): boolean {
  return readdirSync("/proc").some((pid) => /^\d+$/.test(pid) && readText(`/proc/${pid}/comm`).trim() === "systemd-journald".slice(0, 15));
}

/**
 * A journal that logger(1) reaches, on a machine where systemd is not PID 1 (this one, containers):
 * runs Debian's systemd-journald the way its socket units would and links /dev/log to its syslog
 * socket, unless a journald already runs. Returns the undo (stops only what it started).
 */
export async function ensureJournal(): Promise<() => Promise<void>> {
  let journald: Subprocess | undefined;
  let linked = false;
  if (!journaldRunning()) {
    journald = Bun.spawn(["/lib/systemd/systemd-journald"], { stdout: "ignore", stderr: "ignore" });
    await Bun.sleep(500); // it binds its sockets at start; files left by an earlier one may already exist
    await waitFor("journald socket", async () => existsSync("/run/systemd/journal/dev-log"), 10_000);
  }
  if (!existsSync("/dev/log")) {
    symlinkSync("/run/systemd/journal/dev-log", "/dev/log");
    linked = true;
  }
  return async () => {
    if (linked && lstatSync("/dev/log").isSymbolicLink()) unlinkSync("/dev/log");
    journald?.kill("SIGTERM");
    await journald?.exited;
  };
}
