import type ApexCharts from "apexcharts";
import type { ApexMarkers, ApexOptions } from "apexcharts";
import { For, Show, createEffect, createSignal, on, onCleanup, onMount, untrack } from "solid-js";
import { percent, rate } from "../lib/format.ts";
import { theme } from "../lib/theme.ts";

/** [epoch ms, value]; a null value breaks the line (no samples then). */
export type Point = [number, number | null];
export interface Series {
  name: string;
  data: Point[];
}

// The chart library is fetched with this module (the device page), in its own chunk.
const apexcharts = import("apexcharts");

const cssVar = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

function themed(): ApexOptions {
  return {
    theme: { mode: theme() },
    colors: [cssVar("--chart-1"), cssVar("--chart-2")],
    grid: { borderColor: cssVar("--chart-grid"), strokeDashArray: 3 },
    chart: { foreColor: cssVar("--text-muted") },
    xaxis: { axisBorder: { color: cssVar("--chart-grid") }, axisTicks: { color: cssVar("--chart-grid") } },
  };
}

/**
 * Markers: none on the line, except a dot for each sample with no neighbour to join (alone between
 * gaps, or the only point of a range), which a line alone would not show. No stroke: with gaps (null
 * points) ApexCharts keeps a size-0 marker on the chart, which a stroke would show as a dot.
 */
function markers(series: Series[]): ApexMarkers {
  const isolated = (data: Point[], i: number) =>
    data[i]![1] !== null && (data[i - 1]?.[1] ?? null) === null && (data[i + 1]?.[1] ?? null) === null;
  return {
    size: 0,
    strokeWidth: 0,
    hover: { size: 4 },
    discrete: series.flatMap((s, seriesIndex) =>
      s.data.flatMap((_, dataPointIndex) => {
        if (!isolated(s.data, dataPointIndex)) return [];
        const color = cssVar(`--chart-${seriesIndex + 1}`);
        return [{ seriesIndex, dataPointIndex, size: 3, fillColor: color, strokeColor: color }];
      }),
    ),
  };
}

/**
 * One time-series chart (ApexCharts): CPU, RAM or disk in percent, or network in bytes per
 * second. New data is pushed into the mounted chart, so live points do not re-create it.
 */
export function MetricChart(props: {
  title: string;
  unit: "percent" | "rate";
  series: Series[];
  /** Left edge of the x axis, epoch ms. */
  from: number;
  current?: string;
  testid?: string;
}) {
  const [chart, setChart] = createSignal<ApexCharts | null>(null);
  let el!: HTMLDivElement;
  const fmt = (v: number) => (props.unit === "percent" ? percent(v) : rate(v));
  const base = themed();
  const options: ApexOptions = {
    ...base,
    chart: {
      ...base.chart,
      fontFamily: "inherit",
      background: "transparent",
      animations: { enabled: false },
      toolbar: { show: false },
      zoom: { enabled: false },
      parentHeightOffset: 0,
    },
    dataLabels: { enabled: false },
    stroke: { width: 2, curve: "straight" },
    fill: props.unit === "percent" ? { type: "gradient", gradient: { opacityFrom: 0.35, opacityTo: 0.03 } } : { type: "solid", opacity: 1 },
    markers: markers(untrack(() => props.series)),
    legend: { show: false },
    xaxis: { ...base.xaxis, type: "datetime", min: props.from, labels: { datetimeUTC: false }, tooltip: { enabled: false } },
    yaxis:
      props.unit === "percent"
        ? { min: 0, max: 100, tickAmount: 4, labels: { formatter: (v) => `${Math.round(v)} %` } }
        : { min: 0, tickAmount: 4, labels: { formatter: (v) => rate(v) } },
    tooltip: { x: { format: "dd MMM HH:mm:ss" }, y: { formatter: (v) => fmt(v) } },
    noData: { text: "No data in this range yet" },
  };

  // The chart is made here rather than by solid-apexcharts: opened from the device list, the page is
  // built off-document while the router's transition waits for its data, and a chart mounted then
  // (when the library arrived meanwhile) was disposed before its async import resolved ("reading
  // 'destroy'") and rendered into a detached element ("Element not found"), leaving it empty. onMount
  // runs once the page is in the document; a chart disposed before the library arrives is never made.
  onMount(() => {
    let made: ApexCharts | undefined;
    let disposed = false;
    onCleanup(() => {
      disposed = true;
      setChart(null);
      made?.destroy();
    });
    void apexcharts.then(({ default: Chart }) => {
      if (disposed) return;
      const type = props.unit === "percent" ? "area" : "line";
      made = new Chart(el, { ...options, chart: { ...options.chart, type, height: 200 }, series: untrack(() => props.series) });
      const c = made;
      void c.render().then(() => {
        if (!disposed) setChart(c);
      });
    });
  });
  // New data goes straight to the mounted chart, without re-creating it.
  createEffect(
    on([chart, () => props.series, () => props.from], ([c, series, from]) => {
      if (c) void c.updateOptions({ series, xaxis: { min: from }, markers: markers(series) }, false, false);
    }),
  );
  createEffect(
    on(
      theme,
      () => {
        void chart()?.updateOptions({ ...themed(), markers: markers(untrack(() => props.series)) }, false, false);
      },
      { defer: true },
    ),
  );

  return (
    <section
      class="chart-card card"
      data-testid={props.testid}
      aria-label={`${props.title} chart${props.current ? `, now ${props.current}` : ""}`}
    >
      <header class="chart-head">
        <h3>{props.title}</h3>
        <Show when={props.series.length > 1}>
          <ul class="chart-legend">
            <For each={props.series}>
              {(s, i) => (
                <li>
                  <span class="swatch" style={{ background: `var(--chart-${i() + 1})` }} aria-hidden="true" />
                  {s.name}
                </li>
              )}
            </For>
          </ul>
        </Show>
        <span class="chart-now">
          <span class="chart-value">{props.current ?? "—"}</span>
        </span>
      </header>
      <div class="chart-body" role="img" aria-label={`${props.title} over time`}>
        <div ref={el} />
      </div>
    </section>
  );
}
