// Screenshots of every page with headless Debian Chromium (playwright-core from the root package).
// Usage: bun web/scripts/screenshots.ts [outDir]; env BASE (http://127.0.0.1:18181), EMAIL, PASSWORD, CHROMIUM,
// ONLY=login,devices,device,device-7d,alerts,add-device,settings,settings-users,dark,tablet. Expects an enrolled agent
// whose hostname matches HOST (default "vm") (the device page shots) and at least one unresolved alert.
// Exits non-zero when a page had an uncaught error or a console error (a CSP violation among them).
import { chromium } from "playwright-core";
import { drawnVertices } from "../../server/testing/charts.ts";

const BASE = process.env.BASE ?? "http://127.0.0.1:18181";
const EMAIL = process.env.EMAIL ?? "admin@example.com";
const PASSWORD = process.env.PASSWORD ?? "secret123";
const HOST = process.env.HOST ?? "vm";
const OUT = process.argv[2] ?? "docs/screenshots";
const ONLY = process.env.ONLY?.split(",");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const want = (name: string) => !ONLY || ONLY.includes(name);
const problems: string[] = [];

async function session(colorScheme: "light" | "dark", viewport = { width: 1440, height: 900 }) {
  const context = await browser.newContext({ viewport, colorScheme, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    // Chromium logs 401 answers as errors; expected here: the signed-out session probe (auth/me) and
    // the wrong password of the login-error shot (auth/login).
    const expected = m.text().includes("status of 401") && /\/api\/v1\/auth\/(me|login)$/.test(m.location().url);
    if (m.type() === "error" && !expected) problems.push(`console error: ${m.text()} (at ${m.location().url})`);
  });
  return { context, page };
}

async function signIn(page: import("playwright-core").Page, next = "/devices") {
  await page.goto(`${BASE}${next}`);
  await page.getByTestId("login-email").fill(EMAIL);
  await page.getByTestId("login-password").fill(PASSWORD);
  await page.getByTestId("login-submit").click();
  await page.waitForURL((u) => u.pathname === next);
}

const light = await session("light");
const p = light.page;
if (want("login")) {
  await p.goto(`${BASE}/devices`);
  await p.getByTestId("login-email").waitFor();
  await p.screenshot({ path: `${OUT}/login.png` });
  await p.getByTestId("login-email").fill(EMAIL);
  await p.getByTestId("login-password").fill("wrong-password");
  await p.getByTestId("login-submit").click();
  await p.getByTestId("login-error").waitFor();
  await p.screenshot({ path: `${OUT}/login-error.png` });
}
await signIn(p);
await p.getByTestId("device-row").first().waitFor();
await p.waitForTimeout(500);
if (want("devices")) await p.screenshot({ path: `${OUT}/devices-light.png` });

if (want("device")) {
  await p.goto(`${BASE}/devices?q=${HOST}`);
  await p.getByTestId("device-link").first().click();
  await p.getByTestId("chart-cpu").waitFor();
  await p.waitForTimeout(7000);
  console.log("cpu chart vertices drawn:", await drawnVertices(p, "chart-cpu"));
  await p.screenshot({ path: `${OUT}/device.png`, fullPage: true });
  if (want("device-7d")) {
    await p.locator("label", { hasText: "7 d" }).click();
    await p.waitForTimeout(1500);
    await p.screenshot({ path: `${OUT}/device-7d.png` });
  }
}
if (want("alerts")) {
  await p.goto(`${BASE}/alerts`);
  await p.getByTestId("alert-row").first().waitFor();
  await p.getByTestId("alert-ack").first().click();
  await p.waitForTimeout(600);
  await p.screenshot({ path: `${OUT}/alerts.png` });
}
if (want("add-device")) {
  await p.goto(`${BASE}/add-device`);
  await p.getByTestId("token-create").click();
  await p.getByTestId("install-linux").waitFor();
  console.log("linux one-liner:", await p.getByTestId("install-linux").textContent());
  await p.screenshot({ path: `${OUT}/add-device.png`, fullPage: true });
}
if (want("settings")) {
  await p.goto(`${BASE}/settings`);
  await p.locator("#k-name").fill("Billing sync");
  await p.getByTestId("apikey-create").click();
  await p.getByTestId("apikey-value").waitFor();
  await p.waitForTimeout(300);
  await p.screenshot({ path: `${OUT}/settings.png`, fullPage: true });
}
if (want("settings-users")) {
  // Adds a technician (once per server), then shows the list with the new user and the form.
  const email = process.env.NEW_USER ?? "sam.tech@example.com";
  await p.goto(`${BASE}/settings`);
  await p.getByTestId("user-row").first().waitFor();
  if ((await p.locator(`[data-testid="user-row"][data-email="${email}"]`).count()) === 0) {
    await p.getByTestId("user-email").fill(email);
    await p.locator("#u-name").fill("Sam Tech");
    await p.getByTestId("user-role").selectOption("technician");
    await p.getByTestId("user-password").fill("correct-horse-battery");
    await p.getByTestId("user-password-confirm").fill("correct-horse-battery");
    await p.getByTestId("user-create").click();
    await p.locator(`[data-testid="user-row"][data-email="${email}"]`).waitFor();
  }
  await p.waitForTimeout(300);
  await p.screenshot({ path: `${OUT}/settings-users.png` });
}
await light.context.close();

if (want("dark")) {
  const dark = await session("dark");
  await signIn(dark.page);
  await dark.page.getByTestId("device-row").first().waitFor();
  await dark.page.waitForTimeout(500);
  await dark.page.screenshot({ path: `${OUT}/devices-dark.png` });
  await dark.page.goto(`${BASE}/devices?q=${HOST}`);
  await dark.page.getByTestId("device-link").first().click();
  await dark.page.getByTestId("chart-cpu").waitFor();
  await dark.page.waitForTimeout(5000);
  await dark.page.screenshot({ path: `${OUT}/device-dark.png` });
  await dark.context.close();
}
if (want("tablet")) {
  const tablet = await session("light", { width: 820, height: 1180 });
  await signIn(tablet.page);
  await tablet.page.getByTestId("device-row").first().waitFor();
  await tablet.page.waitForTimeout(500);
  await tablet.page.screenshot({ path: `${OUT}/devices-tablet.png` });
  await tablet.context.close();
}
await browser.close();
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
