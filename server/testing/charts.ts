import type { Page } from "playwright-core";

/**
 * Vertices of the longest line drawn in the chart with this test id (the `M`/`L` commands of the `d`
 * of its ApexCharts series paths): what a person sees, 0 when the chart has no SVG or no series line.
 */
export function drawnVertices(page: Page, testid: string): Promise<number> {
  return page
    .locator(`[data-testid="${testid}"] .apexcharts-series path`)
    .evaluateAll((paths) => Math.max(0, ...paths.map((p) => (p.getAttribute("d") ?? "").match(/[ML]/g)?.length ?? 0)));
}

/** The four charts of the device page. */
export const DEVICE_CHARTS = ["chart-cpu", "chart-memory", "chart-disk", "chart-network"] as const;
