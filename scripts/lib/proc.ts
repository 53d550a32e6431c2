import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU time (s) and memory (RSS, or PSS when asked; bytes) of one process, from /proc; undefined once it is gone. */
function procUsage(pid: number, memory: "rss" | "pss" = "rss"): { cpuSeconds: number; rssBytes: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    // PSS for process groups (PostgreSQL's processes share their buffers; RSS would count them in each)
    const rss =
      memory === "pss"
        ? /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))
        : /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return { cpuSeconds, rssBytes: Number(rss?.[1] ?? 0) * 1024 };
  } catch {
    return undefined;
  }
}

/** Every descendant pid of `pid` (e.g. the PostgreSQL processes of an embedded database). */
export function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {}
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) {
      if (pp !== p) continue;
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

/**
 * Samples CPU and memory (RSS, or summed PSS) of a set of processes once a second. `stop()` returns the CPU share of one
 * core over the window and RSS statistics in MB.
 */
export function sampler(pids: () => number[], memory: "rss" | "pss" = "rss") {
  const rss: number[] = [];
  const cpuAt = (ps: number[]) => ps.reduce((n, p) => n + (procUsage(p)?.cpuSeconds ?? 0), 0);
  const t0 = performance.now();
  const startPids = pids();
  const cpu0 = cpuAt(startPids);
  const timer = setInterval(() => {
    rss.push(pids().reduce((n, p) => n + (procUsage(p, memory)?.rssBytes ?? 0), 0) / 2 ** 20);
  }, 1000);
  return {
    stop() {
      clearInterval(timer);
      const seconds = (performance.now() - t0) / 1000;
      const cpu = cpuAt(pids()) - cpu0;
      const sorted = [...rss].sort((a, b) => a - b);
      return {
        seconds: Math.round(seconds),
        cpuPercentOfOneCore: Number(((cpu / seconds) * 100).toFixed(2)),
        rssMb: { median: Number((sorted[Math.floor(sorted.length / 2)] ?? 0).toFixed(1)), max: Number((sorted.at(-1) ?? 0).toFixed(1)) },
      };
    },
  };
}
