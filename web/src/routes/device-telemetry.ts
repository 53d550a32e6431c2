import { createEffect, createMemo, createSignal, on, onCleanup } from "solid-js";
import type { Point, Series } from "../components/MetricChart.tsx";
import { api, call, errorMessage } from "../lib/api.ts";
import { type LiveTelemetryPoint, onLive, onLiveOpen, watchDevice } from "../lib/live.ts";

export type RangeKey = "1h" | "24h" | "7d" | "30d" | "1y";

/** Span and bucket per range: ~240–365 points each; 7 d and longer read the hourly rollup. */
export const RANGES: Record<RangeKey, { label: string; ms: number; bucketSeconds: number; live: boolean }> = {
  "1h": { label: "1 h", ms: 3600_000, bucketSeconds: 15, live: true },
  "24h": { label: "24 h", ms: 86_400_000, bucketSeconds: 300, live: true },
  "7d": { label: "7 d", ms: 7 * 86_400_000, bucketSeconds: 3600, live: false },
  "30d": { label: "30 d", ms: 30 * 86_400_000, bucketSeconds: 3 * 3600, live: false },
  "1y": { label: "1 y", ms: 365 * 86_400_000, bucketSeconds: 86_400, live: false },
};

export interface MetricSeries {
  cpu: Series[];
  memory: Series[];
  disk: Series[];
  network: Series[];
}

const empty = (): MetricSeries => ({
  cpu: [{ name: "CPU", data: [] }],
  memory: [
    { name: "RAM", data: [] },
    { name: "Swap", data: [] },
  ],
  disk: [{ name: "Disk used", data: [] }],
  network: [
    { name: "Received", data: [] },
    { name: "Sent", data: [] },
  ],
});

type Row = {
  time: Date | string;
  cpuPercent: number;
  memoryPercent: number;
  swapPercent: number;
  diskPercent: number;
  networkRxBps: number;
  networkTxBps: number;
};

/** Samples further apart than this many steps mean the agent was offline then: the line breaks there. */
const GAP_STEPS = 3;

/**
 * The spacing beyond which two neighbouring points are not joined: GAP_STEPS times the usual step,
 * which is one bucket, or the agent's reporting interval when that is longer (the median spacing,
 * which one long outage does not move).
 */
function gapThreshold(times: number[], bucketMs: number): number {
  const deltas: number[] = [];
  for (let i = 1; i < times.length; i++) deltas.push(times[i]! - times[i - 1]!);
  deltas.sort((a, b) => a - b);
  return GAP_STEPS * Math.max(bucketMs, deltas[Math.floor(deltas.length / 2)] ?? 0);
}

/** A null point between two samples `gap` apart when that is too far: ApexCharts stops the line at nulls. */
const breakIfGap = (data: Point[], t: number, gapMs: number) => {
  const last = data[data.length - 1];
  if (last && t - last[0] > gapMs) data.push([(last[0] + t) / 2, null]);
};

function toSeries(rows: Row[], gapMs: number): MetricSeries {
  const s = empty();
  const times = rows.map((r) => new Date(r.time).getTime());
  const col = (pick: (r: Row) => number) => {
    const data: Point[] = [];
    rows.forEach((r, i) => {
      const t = times[i]!;
      breakIfGap(data, t, gapMs);
      data.push([t, Math.round(pick(r) * 100) / 100]);
    });
    return data;
  };
  s.cpu[0]!.data = col((r) => r.cpuPercent);
  s.memory[0]!.data = col((r) => r.memoryPercent);
  s.memory[1]!.data = col((r) => r.swapPercent);
  s.disk[0]!.data = col((r) => r.diskPercent);
  s.network[0]!.data = col((r) => r.networkRxBps);
  s.network[1]!.data = col((r) => r.networkTxBps);
  return s;
}

/** Keeps points newer than `from`, plus the new one (after a break when the stream paused, e.g. the agent was offline). */
const push = (series: Series[], from: number, values: number[], t: number, gapMs: number): Series[] =>
  series.map((s, i) => {
    const data = s.data.filter((p) => p[0] >= from);
    while (data[0]?.[1] === null) data.shift();
    if (data.length === 0 || data[data.length - 1]![0] < t) {
      breakIfGap(data, t, gapMs);
      data.push([t, Math.round((values[i] ?? 0) * 100) / 100]);
    }
    return { name: s.name, data };
  });

/**
 * History of one device for the chosen range, and, while the page is open, live points (the device
 * is watched over `/api/v1/live`, so its agent samples every 2 s) appended for the short ranges.
 */
export function createDeviceTelemetry(id: () => string, range: () => RangeKey) {
  // A memo, so a new device object with the same id (live patches) does not re-watch or refetch.
  const deviceId = createMemo(id);
  const [series, setSeries] = createSignal<MetricSeries>(empty());
  const [from, setFrom] = createSignal(Date.now() - RANGES[range()].ms);
  const [loading, setLoading] = createSignal(true);
  const [error, setError] = createSignal("");
  const [source, setSource] = createSignal<"raw" | "rollup">("raw");
  const [latest, setLatest] = createSignal<LiveTelemetryPoint | null>(null);
  const [liveCount, setLiveCount] = createSignal(0);
  let gen = 0;
  let gapMs = GAP_STEPS * RANGES[range()].bucketSeconds * 1000;

  async function load() {
    const g = ++gen;
    const r = RANGES[range()];
    const to = new Date(Date.now() + 60_000);
    const start = new Date(Date.now() - r.ms);
    setLoading(true);
    setError("");
    try {
      const res = await call(
        api.api.v1.devices({ id: deviceId() }).telemetry.get({ query: { from: start, to, bucketSeconds: r.bucketSeconds } }),
      );
      if (g !== gen) return;
      setFrom(start.getTime());
      gapMs = gapThreshold(
        res.points.map((p) => new Date(p.time).getTime()),
        res.bucketSeconds * 1000,
      );
      setSeries(toSeries(res.points, gapMs));
      setSource(res.source);
    } catch (e) {
      if (g === gen) setError(errorMessage(e));
    } finally {
      if (g === gen) setLoading(false);
    }
  }

  createEffect(on([deviceId, range], load));

  createEffect(
    on(deviceId, (id) => {
      const unwatch = watchDevice(id);
      onCleanup(unwatch);
    }),
  );
  onCleanup(onLiveOpen(() => load()));
  onCleanup(
    onLive((e) => {
      if (e.type !== "device.telemetry" || e.data.deviceId !== deviceId()) return;
      const p = e.data.point;
      setLatest(p);
      const r = RANGES[range()];
      if (!r.live || loading()) return;
      const t = new Date(p.time).getTime();
      const start = Date.now() - r.ms;
      setFrom(start);
      setLiveCount((n) => n + 1);
      setSeries((s) => ({
        cpu: push(s.cpu, start, [p.cpuPercent], t, gapMs),
        memory: push(s.memory, start, [p.memoryPercent, p.swapPercent], t, gapMs),
        disk: push(s.disk, start, [p.diskPercent], t, gapMs),
        network: push(s.network, start, [p.networkRxBps, p.networkTxBps], t, gapMs),
      }));
    }),
  );

  return { series, from, loading, error, source, latest, liveCount, reload: load };
}
