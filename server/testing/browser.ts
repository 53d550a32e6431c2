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
  /**
   * Lets the current test's page log "Failed to load resource" for one answer it provokes on purpose
   * (e.g. 401 from `/api/v1/auth/login` for a wrong password); cleared by `checkPage`.
   */
  expectHttpError(status: number, path: string): void;
  /** Throws (and forgets them) if the page had any uncaught error or console error since the last check. */
  checkPage(): void;
  /** Closes everything; throws afterwards if the page had errors not yet checked. */
  stop(): Promise<void>;
}

/**
 * Chromium logs every 4xx/5xx answer to a fetch as a console error "Failed to load resource: the
 * server responded with a status of N (…)" with the resource URL as its location. Only these are let
 * through: the signed-out answer of the session probe (the dashboard asks `/api/v1/auth/me` who is
 * signed in, and the server answers 401 when nobody is), and those a test announced.
 */
const FAILED_LOAD = /^Failed to load resource: the server responded with a status of (\d{3})\b/;
const SESSION_PROBE = { status: 401, path: "/api/v1/auth/me" };

/** Collects uncaught page errors and console errors (CSP violations among them) of one page. */
function watchPage(page: Page) {
  const problems: string[] = [];
  let expected: { status: number; path: string }[] = [];
  const announced = (status: number, url: string) => {
    const path = URL.canParse(url) ? new URL(url).pathname : url;
    return [SESSION_PROBE, ...expected].some((e) => e.status === status && e.path === path);
  };
  page.on("pageerror", (err) => problems.push(`uncaught error: ${err.stack ?? err.message}`));
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    const status = FAILED_LOAD.exec(msg.text())?.[1];
    if (status && announced(Number(status), msg.location().url)) return;
    problems.push(`console error: ${msg.text()} (at ${msg.location().url || "?"})`);
  });
  return {
    expect(status: number, path: string) {
      expected.push({ status, path });
    },
    check() {
      expected = [];
      const found = problems.splice(0);
      if (found.length) throw new Error(`the page had ${found.length} error(s):\n${found.join("\n")}`);
    },
  };
}

/**
 * The real server with the real compiled agent enrolled and running, and Debian's Chromium
 * (headless, driven by playwright-core) on a fresh page. Needs web/dist (scripts/test builds it).
 * Every page error and console error is collected: test files call `checkPage` after each test.
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
  const watch = watchPage(page);
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
    expectHttpError: watch.expect,
    checkPage: watch.check,
    async stop() {
      await browser.close();
      await agent.stop();
      await srv.stop();
      watch.check();
    },
  };
}
