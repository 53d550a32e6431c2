import { existsSync, statSync } from "node:fs";
import type { SoftwareItem, UpdateSource } from "../../server/protocol/patch.ts";
import { runStreaming } from "../patch/stream.ts";
import type { Emit, PlatformPatch, ScanProblem, UpdateScan } from "../patch/types.ts";
import { CommandError, runCommand } from "./exec.ts";
import {
  DPKG_QUERY_FORMAT,
  parseAptSimulate,
  parseDnfUpdateinfo,
  parseDpkgQuery,
  parseRpmQa,
  parseZypperPatches,
  RPM_QUERY_FORMAT,
} from "./linux-patch-parse.ts";

/** apt and dpkg without questions, whatever the terminal. */
const APT_ENV = { DEBIAN_FRONTEND: "noninteractive", NEEDRESTART_MODE: "a", LC_ALL: "C" };
/** Waits this long for another apt or dpkg to release its lock instead of failing at once, s. */
const LOCK_WAIT_S = 120;

function problem(source: string, err: unknown): ScanProblem {
  const code = err instanceof CommandError ? "COMMAND_FAILED" : "UNEXPECTED_OUTPUT";
  return { source, code, message: String(err instanceof Error ? err.message : err).slice(0, 1024) };
}

/** The dpkg install time of a package: when its file list was last written (`/var/lib/dpkg/info/NAME[:ARCH].list`). */
function dpkgInstalledAt(i: SoftwareItem): number | null {
  for (const path of [`/var/lib/dpkg/info/${i.name}:${i.arch}.list`, `/var/lib/dpkg/info/${i.name}.list`]) {
    try {
      return Math.round(statSync(path).mtimeMs);
    } catch {
      // not this name form
    }
  }
  return null;
}

const has = (bin: string) => Bun.which(bin) !== null;

/** The update manager of this distribution: apt (Debian, Ubuntu), dnf (Fedora, RHEL) or zypper (SUSE). */
function manager(): UpdateSource | undefined {
  if (has("apt-get") && has("dpkg-query")) return "apt";
  if (has("dnf")) return "dnf";
  if (has("zypper")) return "zypper";
  return undefined;
}

/** apt's arguments that every call shares: wait for the lock, never prompt. */
const aptLock = ["-o", `DPkg::Lock::Timeout=${LOCK_WAIT_S}`];

async function pending(refresh: boolean): Promise<UpdateScan> {
  const m = manager();
  const problems: ScanProblem[] = [];
  switch (m) {
    case "apt": {
      if (refresh) await runCommand(["apt-get", "update", "-q", ...aptLock], 300_000).catch((err) => problems.push(problem("apt", err)));
      const out = await runCommand(["apt-get", "-s", "-q", "-o", "Debug::NoLocking=1", "dist-upgrade"], 120_000).catch((err) => {
        problems.push(problem("apt", err));
        return "";
      });
      return { sources: ["apt"], updates: parseAptSimulate(out), problems };
    }
    case "dnf": {
      const out = await runCommand(["dnf", "-q", ...(refresh ? ["--refresh"] : ["-C"]), "updateinfo", "list", "--updates"], 300_000).catch(
        (err) => {
          problems.push(problem("dnf", err));
          return "";
        },
      );
      return { sources: ["dnf"], updates: parseDnfUpdateinfo(out), problems };
    }
    case "zypper": {
      if (refresh) await runCommand(["zypper", "-n", "refresh"], 300_000).catch((err) => problems.push(problem("zypper", err)));
      const out = await runCommand(["zypper", "-n", "list-patches"], 120_000).catch((err) => {
        problems.push(problem("zypper", err));
        return "";
      });
      return { sources: ["zypper"], updates: parseZypperPatches(out), problems };
    }
    default:
      return {
        sources: [],
        updates: [],
        problems: [{ source: "linux", code: "NOT_FOUND", message: "no apt, dnf or zypper on this device" }],
      };
  }
}

/** The argument vector that installs one update at exactly its version (never a shell). */
export function installArgv(u: { source: UpdateSource; name: string; version: string }): string[] {
  switch (u.source) {
    case "apt":
      return [
        "apt-get",
        "install",
        "--only-upgrade",
        "-y",
        "-q",
        ...aptLock,
        "-o",
        "Dpkg::Options::=--force-confold",
        `${u.name}=${u.version}`,
      ];
    case "dnf":
      return ["dnf", "-y", "upgrade", `${u.name}-${u.version}`];
    case "zypper":
      return ["zypper", "-n", "install", "-t", "patch", u.name];
    default:
      throw new Error(`${u.source} updates are not installed on Linux`);
  }
}

export const linuxPatch: PlatformPatch = {
  async inventory() {
    if (has("dpkg-query")) {
      const out = await runCommand(["dpkg-query", "-W", "-f", DPKG_QUERY_FORMAT], 60_000);
      return { items: parseDpkgQuery(out).map((i) => ({ ...i, installedAt: dpkgInstalledAt(i) })), problems: [] };
    }
    if (has("rpm")) return { items: parseRpmQa(await runCommand(["rpm", "-qa", "--queryformat", RPM_QUERY_FORMAT], 60_000)), problems: [] };
    return { items: [], problems: [{ source: "linux", code: "NOT_FOUND", message: "no dpkg-query or rpm on this device" }] };
  },
  pending,
  install: (u, emit: Emit, timeoutMs) => runStreaming(installArgv(u), u.source === "apt" ? APT_ENV : { LC_ALL: "C" }, emit, timeoutMs),
  async rebootRequired() {
    // Debian and Ubuntu packages touch this file when they need a restart
    return existsSync("/var/run/reboot-required") || existsSync("/run/reboot-required");
  },
};
