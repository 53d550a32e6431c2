// Device list benchmark in headless Debian Chromium (playwright-core from the root package): time from
// navigation to the first device row, frame times while scrolling, and the time until the first page of a
// server-side sort (by CPU) is on screen. Usage: bun web/scripts/bench-devices.ts; env BASE, EMAIL, PASSWORD, CHROMIUM.
import { chromium } from "playwright-core";

const BASE = process.env.BASE ?? "http://127.0.0.1:18181";
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
await page.goto(`${BASE}/login`);
await page.getByTestId("login-email").fill(process.env.EMAIL ?? "admin@example.com");
await page.getByTestId("login-password").fill(process.env.PASSWORD ?? "secret123");
await page.getByTestId("login-submit").click();
await page.waitForURL("**/devices");

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const loads: number[] = [];
for (let i = 0; i < 5; i++) {
  const t0 = Date.now();
  await page.goto(`${BASE}/devices`);
  await page.getByTestId("device-row").first().waitFor();
  loads.push(Date.now() - t0);
}
// where the last navigation's time went: the page's own requests, as the browser timed them
const requests = await page.evaluate(() =>
  performance
    .getEntriesByType("resource")
    .filter((e) => e.name.includes("/api/"))
    .map((e) => `${new URL(e.name).pathname}${new URL(e.name).search.slice(0, 20)} ${e.startTime.toFixed(0)}+${e.duration.toFixed(0)} ms`),
);
console.log(`last navigation's API requests (start+duration): ${requests.join("; ")}`);
const summary = await page.locator(".list-summary").textContent();
console.log(`navigation → first device row: median ${median(loads)} ms (runs: ${loads.join(", ")}); ${summary?.trim()}`);

for (const step of [100, 400, 1200]) {
  const s = await page.evaluate(async (step) => {
    const el = document.querySelector(".device-rows") as HTMLElement;
    el.scrollTop = 0;
    await new Promise((r) => setTimeout(r, 300));
    const frames: number[] = [];
    let last = performance.now();
    for (let i = 0; i < 120; i++) {
      el.scrollTop += step;
      await new Promise((r) => requestAnimationFrame(r));
      const t = performance.now();
      frames.push(t - last);
      last = t;
    }
    const sorted = frames.sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.floor(sorted.length * q)]?.toFixed(1);
    return { p50: at(0.5), p95: at(0.95), rows: document.querySelectorAll('[data-testid="device-row"]').length };
  }, step);
  console.log(`scroll ${step} px/frame: frame p50 ${s.p50} ms, p95 ${s.p95} ms, ${s.rows} rows in the DOM`);
}

const t0 = Date.now();
await page.selectOption("#f-sort", "cpu:desc");
await page.waitForURL((u) => u.searchParams.get("sort") === "cpu");
await page.waitForSelector('.device-table[aria-busy="false"] [data-testid="device-row"]', { timeout: 120_000 });
console.log(`sort by CPU (server-side, first page on screen): ${Date.now() - t0} ms`);

// Search as you type: one key at a time into the search box (as the browser delivers a keystroke),
// timed in the page from the key to the list showing that search's answer (debounce included).
await page.goto(`${BASE}/devices`);
await page.getByTestId("device-row").first().waitFor();
// SETTLE=1: type once the page's own requests are done (its filter menus loaded and drawn), as a person
// who reads the page first would; otherwise at once, the first key racing the menus' arrival
if (process.env.SETTLE === "1") await page.waitForLoadState("networkidle");
const word = process.env.SEARCH ?? "sim-4242";
const keys = await page.evaluate(async (word) => {
  const input = document.querySelector("#f-q") as HTMLInputElement;
  const settled = (q: string) =>
    new URLSearchParams(location.search).get("q") === q &&
    document.querySelector(".device-table")?.getAttribute("aria-busy") === "false";
  const out: number[] = [];
  for (let i = 1; i <= word.length; i++) {
    const t0 = performance.now();
    input.value = word.slice(0, i);
    input.dispatchEvent(new InputEvent("input", { bubbles: true, data: word[i - 1] }));
    while (!settled(word.slice(0, i))) await new Promise((r) => requestAnimationFrame(r));
    out.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 150));
  }
  return out;
}, word);
const rows = await page.getByTestId("device-row").count();
console.log(
  `search as you type "${word}": per key ${keys.map((k) => k.toFixed(0)).join(", ")} ms (median ${median(keys).toFixed(0)}, max ${Math.max(...keys).toFixed(0)}); ${rows} rows at the end; ${(await page.locator(".list-summary").textContent())?.trim()}`,
);
await browser.close();
