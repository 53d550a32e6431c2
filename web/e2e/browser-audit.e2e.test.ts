import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { type BrowserRig, startBrowserRig } from "../../server/testing/browser.ts";
import type { TestServer } from "../../server/testing/harness.ts";

/** The audit log page in Debian's Chromium against the real server (strict CSP, no page errors): filter, read, download CSV. */
let rig: BrowserRig;
let srv: TestServer;
let page: Page;

beforeAll(async () => {
  rig = await startBrowserRig("audit");
  ({ srv, page } = rig);
  await rig.signIn();
}, 120_000);

afterEach(() => rig?.checkPage());
afterAll(() => rig?.stop());

describe("the audit log in Chromium", () => {
  test("an admin opens the audit log, filters by action, sees a script change with before/after, and downloads it as CSV", async () => {
    const created = await srv.api("/api/v1/scripts", { body: { name: "probe", language: "bash", content: "echo 1" } });
    const { id } = (await created.json()) as { id: string };
    const put = await srv.api(`/api/v1/scripts/${id}`, { method: "PUT", body: { name: "probe v2", language: "bash", content: "echo 1" } });
    expect(put.status).toBe(200);

    await page.getByTestId("audit-nav").click();
    await page.waitForURL((u) => u.pathname === "/audit");
    await page.getByTestId("audit-row").first().waitFor();

    await page.getByLabel("Action").fill("script.");
    await page.getByTestId("audit-apply").click();
    await page.waitForURL((u) => u.searchParams.get("action") === "script.");
    const updated = page.getByTestId("audit-row").filter({ hasText: "script.updated" });
    await updated.waitFor();
    expect(await updated.textContent()).toContain("name: probe → probe v2");
    expect(await page.getByTestId("audit-row").count()).toBe(2);
    await rig.shot("audit-log");

    const link = page.getByTestId("audit-csv");
    expect(await link.getAttribute("href")).toBe("/api/v1/audit?action=script.&format=csv");
    const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
    expect(download.suggestedFilename()).toMatch(/^sentpulse-audit-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = readFileSync(await download.path(), "utf8")
      .trim()
      .split("\r\n");
    expect(csv[0]).toStartWith("time,actor_type,");
    expect(csv.slice(1).map((line) => line.split(",")[4])).toEqual(["script.updated", "script.created"]);
  });
});
