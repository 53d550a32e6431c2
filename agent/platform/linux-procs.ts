import { readdirSync, readFileSync } from "node:fs";
import type { ProcessSnapshot } from "../toolbox/types.ts";

/** Clock ticks per second of /proc times (USER_HZ, 100 on every Linux the agent targets). */
const USER_HZ = 100;

/** The fields of /proc/<pid>/stat the process list needs; undefined for a line it cannot read. */
export function parseProcStat(line: string): { pid: number; comm: string; ppid: number; cpuTicks: number; startTicks: number } | undefined {
  const open = line.indexOf("(");
  const close = line.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  const pid = Number(line.slice(0, open).trim());
  const rest = line
    .slice(close + 2)
    .trim()
    .split(" ");
  // rest[0] is the state (field 3 of proc(5)); ppid is field 4, utime 14, stime 15, starttime 22
  const ppid = Number(rest[1]);
  const cpuTicks = Number(rest[11]) + Number(rest[12]);
  const startTicks = Number(rest[19]);
  if (!Number.isInteger(pid) || !Number.isFinite(ppid) || !Number.isFinite(cpuTicks) || !Number.isFinite(startTicks)) return undefined;
  return { pid, comm: line.slice(open + 1, close), ppid, cpuTicks, startTicks };
}

/** Real uid and resident memory (bytes) from /proc/<pid>/status; kernel threads have no VmRSS (0). */
export function parseProcStatus(text: string): { uid: number; rssBytes: number } {
  const uid = Number(/^Uid:\s+(\d+)/m.exec(text)?.[1] ?? -1);
  const rssKb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(text)?.[1] ?? 0);
  return { uid, rssBytes: rssKb * 1024 };
}

/** Boot time (epoch seconds) from /proc/stat's `btime` line. */
export function parseBootTime(procStat: string): number {
  return Number(/^btime\s+(\d+)/m.exec(procStat)?.[1] ?? 0);
}

/** User names by uid from /etc/passwd. */
export function parsePasswd(text: string): Map<number, string> {
  const users = new Map<number, string>();
  for (const line of text.split("\n")) {
    const [name, , uid] = line.split(":");
    if (name && uid && /^\d+$/.test(uid)) users.set(Number(uid), name);
  }
  return users;
}

/** A command line from /proc/<pid>/cmdline (NUL-separated arguments). */
export function parseCmdline(raw: string): string {
  return raw.replace(/\0+$/, "").replaceAll("\0", " ");
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined; // the process ended while we listed it
  }
}

let passwd: { at: number; users: Map<number, string> } | undefined;

function userName(uid: number): string {
  if (!passwd || Date.now() - passwd.at > 60_000) passwd = { at: Date.now(), users: parsePasswd(read("/etc/passwd") ?? "") };
  return passwd.users.get(uid) ?? (uid >= 0 ? String(uid) : "");
}

/** Every process of /proc (not threads), with cumulative CPU time. */
export function listLinuxProcesses(procDir = "/proc"): ProcessSnapshot[] {
  const boot = parseBootTime(read(`${procDir}/stat`) ?? "");
  const out: ProcessSnapshot[] = [];
  for (const entry of readdirSync(procDir)) {
    const c = entry.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const stat = read(`${procDir}/${entry}/stat`);
    const parsed = stat ? parseProcStat(stat) : undefined;
    if (!parsed) continue;
    const status = parseProcStatus(read(`${procDir}/${entry}/status`) ?? "");
    const cmdline = parseCmdline(read(`${procDir}/${entry}/cmdline`) ?? "");
    out.push({
      pid: parsed.pid,
      ppid: parsed.ppid,
      name: parsed.comm,
      user: userName(status.uid),
      memoryBytes: status.rssBytes,
      command: cmdline || `[${parsed.comm}]`,
      startedAt: boot > 0 ? Math.round((boot + parsed.startTicks / USER_HZ) * 1000) : null,
      cpuTimeMs: (parsed.cpuTicks / USER_HZ) * 1000,
    });
  }
  return out;
}
