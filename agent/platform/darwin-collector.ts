import os from "node:os";
import type { MountSample, TelemetrySample } from "../../server/protocol/telemetry.ts";
import { cpuTimesFromOs, createCpuTracker } from "../collectors/cpu.ts";
import { type MountEntry, statMount } from "../collectors/disk.ts";
import { interfaceSamples } from "../collectors/network.ts";
import { createRateTracker, totalRates } from "../collectors/rate.ts";
import { countLines, parseIoregDiskBytes, parseMacMount, parseNetstatIbn, parseSwapUsage, parseVmStatUsed } from "./darwin-parse.ts";
import { runCommand } from "./exec.ts";
import type { Collector } from "./types.ts";

/** The mount table changes rarely; re-read it at most this often (ms). */
const MOUNT_LIST_MAX_AGE_MS = 60_000;

/**
 * APFS volumes share their container's free space, so used = blocks − bavail: for "/" that is
 * everything the container holds, which is what "disk almost full" alerts need.
 */
function statMounts(entries: readonly MountEntry[]): MountSample[] {
  const out: MountSample[] = [];
  for (const entry of entries.slice(0, 128)) {
    const sample = statMount(entry, "bavail");
    if (sample !== undefined) out.push(sample);
  }
  return out;
}

/**
 * macOS collector: CPU, load, uptime and total memory from the `os` module; used memory, swap,
 * network, disk IO and process count from vm_stat, sysctl, netstat, ioreg and ps, run in
 * parallel; sizes from statfs on the mounts `mount` lists.
 */
export function createDarwinCollector(): Collector {
  const cpu = createCpuTracker();
  const net = createRateTracker();
  const disk = createRateTracker();
  let mounts: MountEntry[] = [];
  let mountsReadAt = Number.NEGATIVE_INFINITY;
  return {
    async collect(): Promise<TelemetrySample> {
      const now = performance.now();
      const usage = cpu(cpuTimesFromOs(os.cpus()));
      if (now - mountsReadAt > MOUNT_LIST_MAX_AGE_MS) {
        mounts = parseMacMount(await runCommand(["/sbin/mount"]));
        mountsReadAt = now;
      }
      const [vmStat, swap, netstat, ioreg, ps] = await Promise.all([
        runCommand(["/usr/bin/vm_stat"]),
        runCommand(["/usr/sbin/sysctl", "vm.swapusage"]),
        runCommand(["/usr/sbin/netstat", "-ibn"]),
        runCommand(["/usr/sbin/ioreg", "-c", "IOBlockStorageDriver", "-r", "-k", "Statistics", "-w0"]),
        runCommand(["/bin/ps", "-A", "-o", "pid="]),
      ]);
      const total = os.totalmem();
      const swapUsage = parseSwapUsage(swap);
      const io = totalRates(disk([parseIoregDiskBytes(ioreg)], now));
      const [l1 = 0, l5 = 0, l15 = 0] = os.loadavg();
      return {
        time: new Date().toISOString(),
        cpuPercent: usage.percent,
        cpuPerCore: usage.perCore.slice(0, 1024),
        load: [l1, l5, l15],
        memoryTotalBytes: total,
        memoryUsedBytes: Math.min(total, parseVmStatUsed(vmStat)),
        swapTotalBytes: swapUsage.totalBytes,
        swapUsedBytes: swapUsage.usedBytes,
        mounts: statMounts(mounts),
        diskReadBps: io.inBps,
        diskWriteBps: io.outBps,
        interfaces: interfaceSamples(net(parseNetstatIbn(netstat), now)),
        uptimeSeconds: os.uptime(),
        processCount: countLines(ps),
      };
    },
  };
}
