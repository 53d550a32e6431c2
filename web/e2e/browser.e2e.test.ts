import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import type { EnrolledAgent } from "../../server/testing/agents.ts";
import { type BrowserRig, startBrowserRig } from "../../server/testing/browser.ts";
import { DEVICE_CHARTS, drawnVertices } from "../../server/testing/charts.ts";
import { alert } from "../../server/testing/fixtures.ts";
import { ADMIN, type TestServer, waitFor } from "../../server/testing/harness.ts";

/**
 * The dashboard in Debian's Chromium (headless, driven by playwright-core) against the real server
 * and the real compiled agent. Needs web/dist (scripts/test builds it first).
 */
let rig: BrowserRig;
let srv: TestServer;
let agent: EnrolledAgent;
let page: Page;

beforeAll(async () => {
  rig = await startBrowserRig("browser");
  ({ srv, agent, page } = rig);
}, 120_000);

afterEach(() => rig?.checkPage());
afterAll(() => rig?.stop());

/** Waits until each of the device page's four charts draws a line of at least `vertices` points. */
const chartsDrawn = (vertices: number, timeoutMs = 20_000) =>
  Promise.all(
    DEVICE_CHARTS.map((id) =>
      waitFor(`${id} drawn with ${vertices}+ points`, async () => (await drawnVertices(page, id)) >= vertices, timeoutMs),
    ),
  );

describe("the dashboard in Chromium", () => {
  test("a bad password shows an error; the right one signs in", async () => {
    await page.goto(`${srv.url}/devices`);
    await page.getByTestId("login-email").fill(ADMIN.email);
    await page.getByTestId("login-password").fill("not the password");
    rig.expectHttpError(401, "/api/v1/auth/login");
    await page.getByTestId("login-submit").click();
    await page.getByTestId("login-error").waitFor();
    expect(await page.getByTestId("login-error").textContent()).toMatch(/wrong email or password/i);
    await page.getByTestId("login-password").fill(ADMIN.password);
    await page.getByTestId("login-submit").click();
    await page.waitForURL((u) => u.pathname === "/devices");
  });

  test("the real enrolled agent shows up online", async () => {
    const row = page.getByTestId("device-row").first();
    await row.waitFor({ timeout: 30_000 });
    await waitFor(
      "online badge",
      async () => (await page.getByTestId("device-status").first().getAttribute("data-status")) === "online",
      30_000,
    );
  });

  test("its page shows charts that gain points live", async () => {
    await page.getByTestId("device-link").first().click();
    await chartsDrawn(2);
    const first = await drawnVertices(page, "chart-cpu");
    await waitFor("new points drawn", async () => (await drawnVertices(page, "chart-cpu")) >= first + 2, 30_000, 500);
  });

  test("opening the device from the list draws all four charts, every time", async () => {
    for (let i = 0; i < 10; i++) {
      if (i % 4 !== 3) {
        // a fresh page: the chart library is fetched during the router transition (where the bug was)
        await page.goto(`${srv.url}/devices`);
      } else {
        await page.locator(".breadcrumb").getByRole("link", { name: "Devices" }).click();
      }
      await page.waitForURL((u) => u.pathname === "/devices");
      await page.getByTestId("device-link").first().click();
      await page.waitForURL((u) => u.pathname === `/devices/${agent.deviceId}`);
      await chartsDrawn(2);
      rig.checkPage();
    }
    await rig.shot("device-charts");
  });

  test("an alert can be acknowledged", async () => {
    await alert(srv.sql, agent.deviceId, { message: "CPU above 90 % for 5 minutes" });
    await page
      .getByRole("link", { name: /alerts/i })
      .first()
      .click();
    const row = page.getByTestId("alert-row").filter({ hasText: "CPU above 90 %" });
    await row.waitFor();
    await row.getByTestId("alert-ack").click();
    await waitFor("acknowledged", async () => (await row.getAttribute("data-acknowledged")) === "true", 10_000);
    const [a] = await srv.sql`select acknowledged_at from alerts where type = 'cpu_high' and device_id = ${agent.deviceId}`;
    expect(a?.acknowledged_at).not.toBeNull();
  });

  test("an enrollment token comes with a one-line installer", async () => {
    await page
      .getByRole("link", { name: /add device/i })
      .first()
      .click();
    await page.getByTestId("token-create").click();
    const line = page.getByTestId("install-linux");
    await line.waitFor();
    expect(await line.textContent()).toMatch(new RegExp(`curl -fsSL ${srv.url}/install.sh \\| sudo sh -s -- --token spe_`));
  });

  test("an API key is created in Settings and listed", async () => {
    await page.goto(`${srv.url}/settings`);
    await page.locator("#keys-title").waitFor();
    await page.locator("#k-name").fill("billing export");
    await page.getByTestId("apikey-create").click();
    expect(await page.getByTestId("apikey-value").textContent()).toMatch(/\S{20,}/);
    await page.getByTestId("apikey-row").filter({ hasText: "billing export" }).waitFor();
  });

  test("sign out goes back to the login page", async () => {
    await page.getByTestId("logout").click();
    await page.getByTestId("login-email").waitFor();
    const me = await page.evaluate(async () => (await fetch("/api/v1/auth/me")).status);
    expect(me).toBe(401);
  });
});
