import { existsSync, mkdirSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { enrollRealAgent, type EnrolledAgent } from "./agents.ts";
import type { Config } from "../config.ts";
import { ADMIN, startTestServer, type TestServer } from "./harness.ts";

const CHROMIUM = process.env.SENTPULSE_CHROMIUM ?? "/usr/bin/chromium";
/** Where browser tests save screenshots when SENTPULSE_SCREENSHOTS names a folder (never by default). */
const SHOTS = process.env.SENTPULSE_SCREENSHOTS;

export interface BrowserRig {
  srv: TestServer;
  agent: EnrolledAgent;
  browser: Browser;
  page: Page;
  /** Signs in as the admin on the login page and waits for the device list. */
  signIn(): Promise<void>;
  /** Saves a screenshot when SENTPULSE_SCREENSHOTS is set (to refresh docs/screenshots). */
  shot(name: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The real server with the real compiled agent enrolled and running, and Debian's Chromium
 * (headless, driven by playwright-core) on a fresh page. Needs web/dist (scripts/test builds it).
 */
export async function startBrowserRig(tag: string, overrides: Partial<Config> = {}): Promise<BrowserRig> {
  if (!existsSync("web/dist/index.html")) throw new Error("web/dist is missing: build the dashboard first (scripts/test does)");
  const srv = await startTestServer({ telemetryIntervalS: 2, ...overrides });
  const agent = await enrollRealAgent(srv, [`env=${tag}`]);
  agent.start();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  return {
    srv,
    agent,
    browser,
    page,
    async signIn() {
      await page.goto(`${srv.url}/devices`);
      await page.getByTestId("login-email").fill(ADMIN.email);
      await page.getByTestId("login-password").fill(ADMIN.password);
      await page.getByTestId("login-submit").click();
      await page.waitForURL((u) => u.pathname === "/devices");
    },
    async shot(name) {
      if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png` });
    },
    async stop() {
      await browser.close();
      await agent.stop();
      await srv.stop();
    },
  };
}
