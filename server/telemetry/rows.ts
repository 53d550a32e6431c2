import type { TelemetrySample } from "../protocol/telemetry.ts";

const int = (n: number) => Math.round(n);

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

/** One sample as `telemetry_flush` reads it (json_to_recordset): `b` is its batch's position in the flush, 1-based. */
export interface TelemetryRow {
  b: number;
  time: string;
  cpu_percent: number;
  cpu_per_core: number[];
  load1: number;
  load5: number;
  load15: number;
  memory_total_bytes: number;
  memory_used_bytes: number;
  memory_percent: number;
  swap_total_bytes: number;
  swap_used_bytes: number;
  swap_percent: number;
  disk_total_bytes: number;
  disk_used_bytes: number;
  disk_percent: number;
  disk_read_bps: number;
  disk_write_bps: number;
  network_rx_bps: number;
  network_tx_bps: number;
  uptime_seconds: number;
  process_count: number;
  mounts: TelemetrySample["mounts"];
  interfaces: TelemetrySample["interfaces"];
}

/** A sample's row for `telemetry_flush`; on the ingest hot path. */
export function telemetryRow(b: number, s: TelemetrySample, sum = summarize(s)): TelemetryRow {
  return {
    b,
    time: s.time,
    cpu_percent: s.cpuPercent,
    cpu_per_core: s.cpuPerCore,
    load1: s.load[0],
    load5: s.load[1],
    load15: s.load[2],
    memory_total_bytes: int(s.memoryTotalBytes),
    memory_used_bytes: int(s.memoryUsedBytes),
    memory_percent: sum.memoryPercent,
    swap_total_bytes: int(s.swapTotalBytes),
    swap_used_bytes: int(s.swapUsedBytes),
    swap_percent: sum.swapPercent,
    disk_total_bytes: int(sum.diskTotalBytes),
    disk_used_bytes: int(sum.diskUsedBytes),
    disk_percent: sum.diskPercent,
    disk_read_bps: s.diskReadBps,
    disk_write_bps: s.diskWriteBps,
    network_rx_bps: sum.networkRxBps,
    network_tx_bps: sum.networkTxBps,
    uptime_seconds: int(s.uptimeSeconds),
    process_count: s.processCount,
    mounts: s.mounts,
    interfaces: s.interfaces,
  };
}

const NEEDS_ESCAPE = /[\\\t\n\r]/;

/** Escapes a value for PostgreSQL's COPY text format (most values need nothing: test first, it is cheaper). */
function text(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r"));
}

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
