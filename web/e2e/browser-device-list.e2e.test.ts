import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { type BrowserRig, startBrowserRig } from "../../server/testing/browser.ts";
import { device, sample } from "../../server/testing/fixtures.ts";
import { type TestServer, waitFor } from "../../server/testing/harness.ts";

/**
 * The device list in Debian's Chromium against the real server (and a real agent, tagged env=list):
 * 300 more devices whose telemetry goes through the server's ingest, then search as you type and
 * sorting by CPU, checked by what is on screen.
 */
let rig: BrowserRig;
let srv: TestServer;
let page: Page;

beforeAll(async () => {
  rig = await startBrowserRig("list");
  ({ srv, page } = rig);
  const [site] = await srv.sql<{ id: string; org: string }[]>`select id, organization_id as org from sites order by created_at limit 1`;
  const submits: Promise<unknown>[] = [];
  for (let i = 0; i < 300; i++) {
    const id = await device(srv.sql, {
      organizationId: site!.org,
      siteId: site!.id,
      hostname: `${["alpha", "beta", "gamma"][i % 3]}-${String(Math.floor(i / 3)).padStart(3, "0")}`,
      tags: [`rack=${i % 7}`],
    });
    // CPU 0.3 … 90.0 in steps of 0.3, so no two devices tie and the order on screen is checkable
    submits.push(srv.server.services.ingest.submit(id, site!.org, { seq: 1, samples: [sample(new Date(), (i + 1) * 0.3)] }));
  }
  await Promise.all(submits);
  await rig.signIn();
}, 120_000);

afterEach(() => rig?.checkPage());
afterAll(() => rig?.stop());

const hostnames = () => page.getByTestId("device-link").allTextContents();
const summary = async () => ((await page.locator(".list-summary").textContent()) ?? "").replace(/\s+/g, " ").trim();

describe("the device list in Chromium", () => {
  test("search as you type: each key narrows the list on the server; the last answer wins", async () => {
    await page.goto(`${srv.url}/devices`);
    await page.getByTestId("device-row").first().waitFor();
    expect(await summary()).toMatch(/^Showing 100 of 301 devices · scroll for more$/);
    const box = page.getByLabel("Search");
    await box.pressSequentially("BETA-04", { delay: 15 });
    await waitFor("beta-04x only", async () => (await summary()) === "Showing 10 of 10 devices", 10_000);
    expect((await hostnames()).every((h) => h.startsWith("beta-04"))).toBe(true);
    await box.pressSequentially("2", { delay: 15 });
    await waitFor("beta-042", async () => (await summary()) === "Showing 1 of 1 device", 10_000);
    expect(await hostnames()).toEqual(["beta-042"]);
    expect(new URL(page.url()).searchParams.get("q")).toBe("BETA-042");
    await rig.shot("device-list-search");
    // a tag is searchable too; clearing the box brings the whole fleet back
    await box.fill("rack=6");
    await waitFor("rack=6", async () => (await summary()) === "Showing 42 of 42 devices", 10_000);
    await box.fill("");
    await waitFor("all again", async () => (await summary()).startsWith("Showing 100 of 301 devices"), 10_000);
  });

  test("sorting by CPU (highest first) shows the busiest device first, and the next pages keep the order as you scroll", async () => {
    await page.goto(`${srv.url}/devices`);
    await page.getByTestId("device-row").first().waitFor();
    await page.getByRole("button", { name: /^CPU/ }).click();
    await page.waitForURL((u) => u.searchParams.get("sort") === "cpu");
    // the real agent reports this machine's CPU, which may be anything: the busiest seeded device
    // (gamma-099, 90 %) is first or right after it
    await waitFor("gamma-099 on top", async () => (await hostnames()).slice(0, 2).includes("gamma-099"), 10_000);
    const cpuShown = async () =>
      (await page.locator('[data-testid="device-row"] .c-cpu .val').allTextContents()).map((t) => Number.parseFloat(t));
    const first = await cpuShown();
    expect(first).toContain(90);
    for (let i = 1; i < first.length; i++) expect(first[i]!).toBeLessThanOrEqual(first[i - 1]!);
    expect(await page.locator("th.c-cpu").getAttribute("aria-sort")).toBe("descending");
    await rig.shot("device-list-cpu");
    // scroll to the end: the rest arrive by cursor, still highest first, every device once
    await waitFor(
      "all 301 loaded",
      async () => {
        await page.locator(".device-rows").evaluate((el) => {
          el.scrollTop = el.scrollHeight;
        });
        return (await summary()) === "Showing 301 of 301 devices";
      },
      20_000,
    );
    const last = await cpuShown();
    for (let i = 1; i < last.length; i++) if (!Number.isNaN(last[i]!)) expect(last[i]!).toBeLessThanOrEqual(last[i - 1]!);
    // flipping the header sorts lowest first
    await page.getByRole("button", { name: /^CPU/ }).click();
    await waitFor("lowest first", async () => (await cpuShown())[0]! <= 0.3, 10_000);
    expect(await page.locator("th.c-cpu").getAttribute("aria-sort")).toBe("ascending");
  });
});
