import { existsSync, statSync } from "node:fs";
import type { SoftwareItem, UpdateSource } from "../../server/protocol/patch.ts";
import { runStreaming } from "../patch/stream.ts";
import type { Emit, PlatformPatch, ScanProblem, UpdateScan } from "../patch/types.ts";
import { CommandError, runCommand } from "./exec.ts";
import {
  DPKG_QUERY_FORMAT,
  mergeDnf,
  parseAptSimulate,
  parseDnfAdvisoryLines,
  parseDnfCheckUpdate,
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

/**
 * Global options put in front of every dnf, zypper and rpm call: none on a device; the tests point
 * them at scratch roots and a repository they build (`--installroot`, `--root`).
 */
export interface PackageRoots {
  dnf: readonly string[];
  zypper: readonly string[];
  rpm: readonly string[];
}
const SYSTEM: PackageRoots = { dnf: [], zypper: [], rpm: [] };

/** Installed rpm packages by name → version (epoch folded in), for the "from" version of dnf updates. */
async function rpmVersions(roots: PackageRoots): Promise<Map<string, string>> {
  const out = await runCommand(["rpm", ...roots.rpm, "-qa", "--queryformat", RPM_QUERY_FORMAT], 60_000).catch(() => "");
  return new Map(parseRpmQa(out).map((i) => [i.name, i.version]));
}

/**
 * dnf: `check-update` lists every pending update (exit code 100 when there are some), `updateinfo list`
 * classifies them by advisory (type and severity) and `updateinfo list --with-cve` adds the CVE ids.
 * Only the first call refreshes the metadata; the others read dnf's cache.
 */
export async function dnfPending(refresh: boolean, roots: PackageRoots = SYSTEM): Promise<UpdateScan> {
  const problems: ScanProblem[] = [];
  const dnf = (args: string[], okCodes: number[] = [0]) =>
    runCommand(["dnf", ...roots.dnf, "-q", ...args], 300_000, okCodes).catch((err) => {
      problems.push(problem("dnf", err));
      return "";
    });
  const available = parseDnfCheckUpdate(await dnf([...(refresh ? ["--refresh"] : []), "check-update"], [0, 100]));
  const advisories = parseDnfAdvisoryLines(await dnf(["-C", "updateinfo", "list", "--updates"]));
  const cves = parseDnfAdvisoryLines(await dnf(["-C", "updateinfo", "list", "--updates", "--with-cve"]));
  return { sources: ["dnf"], updates: mergeDnf(available, advisories, cves, await rpmVersions(roots)), problems };
}

/** zypper: the applicable patches with their CVE ids, read as XML (`--xmlout`). */
export async function zypperPending(refresh: boolean, roots: PackageRoots = SYSTEM): Promise<UpdateScan> {
  const problems: ScanProblem[] = [];
  // zypper's informational exit codes (100-103: updates or patches wait, a restart is needed…) are not failures
  const info = [0, 100, 101, 102, 103];
  if (refresh)
    await runCommand(["zypper", ...roots.zypper, "-n", "refresh"], 300_000, info).catch((err) => problems.push(problem("zypper", err)));
  const out = await runCommand(["zypper", ...roots.zypper, "-n", "--xmlout", "list-patches"], 120_000, info).catch((err) => {
    problems.push(problem("zypper", err));
    return "";
  });
  return { sources: ["zypper"], updates: out ? parseZypperPatches(out) : [], problems };
}

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
    case "dnf":
      return dnfPending(refresh);
    case "zypper":
      return zypperPending(refresh);
    default:
      return {
        sources: [],
        updates: [],
        problems: [{ source: "linux", code: "NOT_FOUND", message: "no apt, dnf or zypper on this device" }],
      };
  }
}

/** The argument vector that installs one update at exactly its version (never a shell). */
export function installArgv(u: { source: UpdateSource; name: string; version: string }, roots: PackageRoots = SYSTEM): string[] {
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
      return ["dnf", ...roots.dnf, "-y", "upgrade", `${u.name}-${u.version}`];
    case "zypper":
      return ["zypper", ...roots.zypper, "-n", "install", "-t", "patch", u.name];
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
