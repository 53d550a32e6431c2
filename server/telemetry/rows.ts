import type { TelemetrySample } from "../protocol/telemetry.ts";

/** Columns of device_telemetry in the order `copyLine` writes them. */
export const TELEMETRY_COLUMNS = [
  "time",
  "device_id",
  "batch_seq",
  "cpu_percent",
  "cpu_per_core",
  "load1",
  "load5",
  "load15",
  "memory_total_bytes",
  "memory_used_bytes",
  "memory_percent",
  "swap_total_bytes",
  "swap_used_bytes",
  "swap_percent",
  "disk_total_bytes",
  "disk_used_bytes",
  "disk_percent",
  "disk_read_bps",
  "disk_write_bps",
  "network_rx_bps",
  "network_tx_bps",
  "uptime_seconds",
  "process_count",
  "mounts",
  "interfaces",
] as const;

/** Summary figures derived from one sample (what charts, lists and alert rules read). */
export interface SampleSummary {
  memoryPercent: number;
  swapPercent: number;
  diskTotalBytes: number;
  diskUsedBytes: number;
  /** Used percent of the fullest mounted filesystem. */
  diskPercent: number;
  networkRxBps: number;
  networkTxBps: number;
}

const pct = (used: number, total: number) => (total > 0 ? Math.min(100, (used / total) * 100) : 0);

export function summarize(s: TelemetrySample): SampleSummary {
  let diskTotalBytes = 0;
  let diskUsedBytes = 0;
  let diskPercent = 0;
  for (const m of s.mounts) {
    diskTotalBytes += m.totalBytes;
    diskUsedBytes += m.usedBytes;
    diskPercent = Math.max(diskPercent, pct(m.usedBytes, m.totalBytes));
  }
  let networkRxBps = 0;
  let networkTxBps = 0;
  for (const i of s.interfaces) {
    networkRxBps += i.rxBps;
    networkTxBps += i.txBps;
  }
  return {
    memoryPercent: pct(s.memoryUsedBytes, s.memoryTotalBytes),
    swapPercent: pct(s.swapUsedBytes, s.swapTotalBytes),
    diskTotalBytes,
    diskUsedBytes,
    diskPercent,
    networkRxBps,
    networkTxBps,
  };
}

const NEEDS_ESCAPE = /[\\\t\n\r]/;

/** Escapes a value for PostgreSQL's COPY text format (most values need nothing: test first, it is cheaper). */
function text(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r"));
}

const int = (n: number) => Math.round(n);

/** One COPY text-format line (tab separated, newline terminated) for a sample; on the ingest hot path. */
export function copyLine(deviceId: string, seq: number, s: TelemetrySample, sum = summarize(s)): string {
  return (
    `${s.time}\t${deviceId}\t${seq}\t${s.cpuPercent}\t{${s.cpuPerCore.join(",")}}\t${s.load[0]}\t${s.load[1]}\t${s.load[2]}\t` +
    `${int(s.memoryTotalBytes)}\t${int(s.memoryUsedBytes)}\t${sum.memoryPercent}\t${int(s.swapTotalBytes)}\t${int(s.swapUsedBytes)}\t` +
    `${sum.swapPercent}\t${int(sum.diskTotalBytes)}\t${int(sum.diskUsedBytes)}\t${sum.diskPercent}\t${s.diskReadBps}\t${s.diskWriteBps}\t` +
    `${sum.networkRxBps}\t${sum.networkTxBps}\t${int(s.uptimeSeconds)}\t${s.processCount}\t` +
    `${text(JSON.stringify(s.mounts))}\t${text(JSON.stringify(s.interfaces))}\n`
  );
}
