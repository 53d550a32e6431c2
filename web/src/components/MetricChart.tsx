import type ApexCharts from "apexcharts";
import type { ApexMarkers, ApexOptions } from "apexcharts";
import { SolidApexCharts } from "solid-apexcharts";
import { For, Show, createEffect, createRoot, createSignal, getOwner, on, onCleanup, onMount, untrack } from "solid-js";
import { insert } from "solid-js/web";
import { percent, rate } from "../lib/format.ts";
import { theme } from "../lib/theme.ts";

/** [epoch ms, value]; a null value breaks the line (no samples then). */
export type Point = [number, number | null];
export interface Series {
  name: string;
  data: Point[];
}

// The chart library is fetched with this module (the device page), in its own chunk. solid-apexcharts
// imports it again ("apexcharts/dist/apexcharts.esm.js": the same file, so the same module and chunk);
// a chart is handed to it only once this import has resolved.
const apexReady = import("apexcharts");

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
 * One time-series chart (solid-apexcharts): CPU, RAM or disk in percent, or network in bytes per
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
  let host!: HTMLDivElement;
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

  // solid-apexcharts makes its chart in onMount after an async import, calls `chart.destroy()` in
  // onCleanup whether or not that import has resolved, and renders into its element whether or not it
  // is still in the document. Opened from the device list, the page is built off-document while the
  // router's transition waits for its data and may be discarded: a chart mounted then threw "reading
  // 'destroy'" and rendered into a detached element ("Element not found"), and stayed empty. So it is
  // mounted only once the library is here AND this chart's element is in the document (checked each
  // frame until then), and in a root of its own, disposed only once solid-apexcharts holds its chart.
  // Its props never change (its effects would call into the chart before the import resolves): new
  // data and theme changes go to the chart itself below.
  onMount(() => {
    const owner = getOwner();
    let gone = false;
    let frame = 0;
    /** Set once solid-apexcharts has made its chart: from then on its cleanup can destroy it. */
    let made = false;
    let dispose: (() => void) | undefined;
    onCleanup(() => {
      gone = true;
      cancelAnimationFrame(frame);
      setChart(null);
      if (made) dispose?.();
    });
    const mount = () => {
      if (gone) return;
      if (!host.isConnected) {
        frame = requestAnimationFrame(mount);
        return;
      }
      const type = props.unit === "percent" ? "area" : "line";
      const series = untrack(() => props.series);
      createRoot((d) => {
        dispose = d;
        insert(
          host,
          <SolidApexCharts
            type={type}
            height={200}
            options={options}
            series={series}
            ref={(c: ApexCharts) => {
              made = true;
              // Disposed in the few ticks of solid-apexcharts' import (its root is then left to the
              // garbage collector): it calls render() next, into a detached element. Nothing to draw.
              if (gone) c.render = () => Promise.resolve(c);
            }}
            onMounted={(c: ApexCharts) => {
              if (!gone) setChart(c);
            }}
          />,
        );
      }, owner);
    };
    void apexReady.then(mount);
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
      <div class="chart-body" ref={host} role="img" aria-label={`${props.title} over time`} />
    </section>
  );
}
