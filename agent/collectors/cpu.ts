import type { CpuInfo } from "node:os";

/** Cumulative CPU time of one CPU (or all CPUs together), in clock ticks or ms: only ratios matter. */
export interface CpuTimes {
  busy: number;
  total: number;
}

/** Busy share of every CPU between two readings, percent 0–100. */
export interface CpuUsage {
  percent: number;
  perCore: number[];
}

/**
 * Parses /proc/stat: element 0 is the aggregate `cpu` line, then one element per `cpuN` line, in
 * USER_HZ ticks. Busy counts user, nice, system, irq, softirq and steal; idle and iowait are not busy.
 * guest and guest_nice are already included in user and nice, so they are not added again.
 */
export function parseProcStat(text: string): CpuTimes[] {
  const out: CpuTimes[] = [];
  let pos = 0;
  while (text.startsWith("cpu", pos)) {
    const end = text.indexOf("\n", pos);
    const line = text.slice(pos, end === -1 ? text.length : end);
    const f = line.split(" ").filter((s) => s !== "");
    let total = 0;
    for (let i = 1; i <= 8 && i < f.length; i++) total += Number(f[i]);
    const idle = Number(f[4] ?? 0) + Number(f[5] ?? 0);
    out.push({ busy: total - idle, total });
    if (end === -1) break;
    pos = end + 1;
  }
  return out;
}

/** Converts `os.cpus()` (ms per CPU) to the same shape as parseProcStat: aggregate first, then each CPU. */
export function cpuTimesFromOs(cpus: readonly CpuInfo[]): CpuTimes[] {
  const all: CpuTimes = { busy: 0, total: 0 };
  const out: CpuTimes[] = [all];
  for (const { times: t } of cpus) {
    const busy = t.user + t.nice + t.sys + t.irq;
    const total = busy + t.idle;
    all.busy += busy;
    all.total += total;
    out.push({ busy, total });
  }
  return out;
}

/** Busy percent (0–100, two decimals) between two readings of one CPU; with no previous reading, since boot. */
export function busyPercent(prev: CpuTimes | undefined, cur: CpuTimes): number {
  const total = cur.total - (prev?.total ?? 0);
  const busy = cur.busy - (prev?.busy ?? 0);
  if (total <= 0 || busy <= 0) return 0;
  return Math.min(100, Math.round((busy / total) * 10_000) / 100);
}

/**
 * Usage between two readings shaped like parseProcStat's output. When the number of CPUs changed
 * (hotplug) the previous reading is ignored and the figures are since boot.
 */
export function cpuUsage(prev: readonly CpuTimes[] | undefined, cur: readonly CpuTimes[]): CpuUsage {
  const base = prev !== undefined && prev.length === cur.length ? prev : undefined;
  const perCore: number[] = [];
  for (let i = 1; i < cur.length; i++) perCore.push(busyPercent(base?.[i], cur[i] as CpuTimes));
  const all = cur[0];
  return { percent: all === undefined ? 0 : busyPercent(base?.[0], all), perCore };
}

/** Keeps the previous reading so each call returns usage since the last call (since boot on the first). */
export function createCpuTracker(): (cur: CpuTimes[]) => CpuUsage {
  let prev: CpuTimes[] | undefined;
  return (cur) => {
    const usage = cpuUsage(prev, cur);
    prev = cur;
    return usage;
  };
}
