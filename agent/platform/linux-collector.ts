import { readFileSync } from "node:fs";
import type { MountSample, TelemetrySample } from "../../server/protocol/telemetry.ts";
import { createCpuTracker, parseProcStat } from "../collectors/cpu.ts";
import { parseDiskstats, parseMounts, statMount } from "../collectors/disk.ts";
import { parseLoadavg } from "../collectors/load.ts";
import { parseMeminfo } from "../collectors/memory.ts";
import { interfaceSamples, parseNetDev } from "../collectors/network.ts";
import { readProcessCount } from "../collectors/processes.ts";
import { createRateTracker, totalRates } from "../collectors/rate.ts";
import { parseUptime } from "../collectors/uptime.ts";
import type { Collector } from "./types.ts";

const read = (path: string) => readFileSync(path, "utf8");

/** Mounted filesystems with sizes, used = blocks − bfree as df prints it, at most 128 (the wire limit). */
function readLinuxMounts(): MountSample[] {
  const out: MountSample[] = [];
  for (const entry of parseMounts(read("/proc/self/mounts"))) {
    const sample = statMount(entry, "bfree");
    if (sample !== undefined) out.push(sample);
    if (out.length === 128) break;
  }
  return out;
}

/**
 * Collector that reads /proc and statfs directly, with no child processes: about 0.25 ms per
 * sample on a 2-core VM (agent/collectors/bench.ts).
 */
export function createLinuxCollector(): Collector {
  const cpu = createCpuTracker();
  const net = createRateTracker();
  const disk = createRateTracker();
  return {
    async collect(): Promise<TelemetrySample> {
      const now = performance.now();
      const usage = cpu(parseProcStat(read("/proc/stat")));
      const mem = parseMeminfo(read("/proc/meminfo"));
      const io = totalRates(disk(parseDiskstats(read("/proc/diskstats")), now));
      return {
        time: new Date().toISOString(),
        cpuPercent: usage.percent,
        cpuPerCore: usage.perCore.slice(0, 1024),
        load: parseLoadavg(read("/proc/loadavg")),
        memoryTotalBytes: mem.totalBytes,
        memoryUsedBytes: mem.usedBytes,
        swapTotalBytes: mem.swapTotalBytes,
        swapUsedBytes: mem.swapUsedBytes,
        mounts: readLinuxMounts(),
        diskReadBps: io.inBps,
        diskWriteBps: io.outBps,
        interfaces: interfaceSamples(net(parseNetDev(read("/proc/net/dev")), now)),
        uptimeSeconds: parseUptime(read("/proc/uptime")),
        processCount: readProcessCount(),
      };
    },
  };
}
