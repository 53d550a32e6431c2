import os from "node:os";
import type { TelemetrySample } from "../../server/protocol/telemetry.ts";
import { cpuTimesFromOs, createCpuTracker } from "../collectors/cpu.ts";
import { interfaceSamples } from "../collectors/network.ts";
import { createRateTracker, totalRates } from "../collectors/rate.ts";
import { runCommand } from "./exec.ts";
import { parseTelemetryOutput, powershellArgv, TELEMETRY_SCRIPT } from "./windows-query.ts";
import type { Collector } from "./types.ts";

/**
 * Windows collector: CPU, physical memory (freemem is the available memory there) and uptime from
 * the `os` module; network and disk byte counters, process count, volumes and page files from one
 * PowerShell run per sample. Windows has no load average, so load is always 0.
 */
export function createWindowsCollector(): Collector {
  const cpu = createCpuTracker();
  const net = createRateTracker();
  const disk = createRateTracker();
  const argv = powershellArgv(TELEMETRY_SCRIPT);
  return {
    async collect(): Promise<TelemetrySample> {
      const counters = parseTelemetryOutput(await runCommand(argv));
      const now = performance.now();
      const usage = cpu(cpuTimesFromOs(os.cpus()));
      const io = totalRates(disk([counters.disk], now));
      const total = os.totalmem();
      return {
        time: new Date().toISOString(),
        cpuPercent: usage.percent,
        cpuPerCore: usage.perCore.slice(0, 1024),
        load: [0, 0, 0],
        memoryTotalBytes: total,
        memoryUsedBytes: Math.max(0, total - os.freemem()),
        swapTotalBytes: counters.swapTotalBytes,
        swapUsedBytes: counters.swapUsedBytes,
        mounts: counters.mounts.slice(0, 128),
        diskReadBps: io.inBps,
        diskWriteBps: io.outBps,
        interfaces: interfaceSamples(net(counters.interfaces, now)),
        uptimeSeconds: os.uptime(),
        processCount: counters.processCount,
      };
    },
  };
}
