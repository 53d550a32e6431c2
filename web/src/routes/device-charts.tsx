import { Show, createSignal } from "solid-js";
import { ErrorNote } from "../components/ErrorNote.tsx";
import { MetricChart } from "../components/MetricChart.tsx";
import { Segmented } from "../components/Segmented.tsx";
import { percent, rate } from "../lib/format.ts";
import type { DeviceDetail } from "../lib/types.ts";
import { RANGES, type RangeKey, createDeviceTelemetry } from "./device-telemetry.ts";

const RANGE_OPTIONS = (Object.keys(RANGES) as RangeKey[]).map((value) => ({ value, label: RANGES[value].label }));

/** CPU, RAM, disk and network charts with a range picker; short ranges move live. */
export function DeviceCharts(props: { deviceId: string; latest: DeviceDetail["telemetry"] }) {
  const [range, setRange] = createSignal<RangeKey>("1h");
  const t = createDeviceTelemetry(() => props.deviceId, range);
  const live = () => RANGES[range()].live && t.liveCount() > 0;
  // The headline values are the latest sample (kept live by the device page), whatever the range.
  const now = () => t.latest() ?? props.latest;
  return (
    <section class="charts" aria-labelledby="charts-title">
      <div class="charts-head">
        <h2 id="charts-title">Performance</h2>
        <Show when={live()}>
          <span class="pill pill-live" title="New samples arrive every 2 s while this page is open">
            ● Live
          </span>
        </Show>
        <span class="muted charts-source">
          {t.loading()
            ? "Loading…"
            : t.source() === "rollup"
              ? "Hourly averages"
              : RANGES[range()].live
                ? "Updates every 2 s while this page is open"
                : ""}
        </span>
        <Segmented label="Time range" options={RANGE_OPTIONS} value={range()} onChange={setRange} />
      </div>
      <Show when={t.error()}>
        <ErrorNote message={t.error()} onRetry={t.reload} />
      </Show>
      <div class="chart-grid" aria-busy={t.loading()}>
        <MetricChart
          title="CPU"
          unit="percent"
          series={t.series().cpu}
          from={t.from()}
          current={percent(now()?.cpuPercent)}
          testid="chart-cpu"
        />
        <MetricChart
          title="Memory"
          unit="percent"
          series={t.series().memory}
          from={t.from()}
          current={percent(now()?.memoryPercent)}
          testid="chart-memory"
        />
        <MetricChart
          title="Disk used"
          unit="percent"
          series={t.series().disk}
          from={t.from()}
          current={percent(now()?.diskPercent)}
          testid="chart-disk"
        />
        <MetricChart
          title="Network"
          unit="rate"
          series={t.series().network}
          from={t.from()}
          current={now() ? `↓ ${rate(now()?.networkRxBps)}  ↑ ${rate(now()?.networkTxBps)}` : undefined}
          testid="chart-network"
        />
      </div>
    </section>
  );
}
