import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Browser, chromium } from "playwright-core";
import { startTestServer, type TestServer } from "../testing/harness.ts";

const CHROMIUM = process.env.SENTPULSE_CHROMIUM ?? "/usr/bin/chromium";

let srv: TestServer;
let browser: Browser;
beforeAll(async () => {
  srv = await startTestServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await srv?.stop();
});

describe("the API reference page", () => {
  test("renders the operations from this server alone, under the CSP, with no error", async () => {
    const page = await (await browser.newContext()).newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console error: ${m.text()}`);
    });
    // offline: anything not from this server is refused (and reported)
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(`${srv.url}/`) || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
      problems.push(`external request: ${url}`);
      return route.abort();
    });
    const res = await page.goto(`${srv.url}/api/v1/openapi`);
    expect(res?.headers()["content-security-policy"]).toContain("script-src 'self'");
    await page.getByText("API keys of the organization (never the keys themselves)").first().waitFor({ timeout: 60_000 });
    await page.waitForLoadState("networkidle");
    expect(problems).toEqual([]);
  }, 120_000);
});
