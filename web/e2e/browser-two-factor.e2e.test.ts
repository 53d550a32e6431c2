import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { Secret, TOTP } from "otpauth";
import type { Page } from "playwright-core";
import { type BrowserRig, startBrowserRig } from "../../server/testing/browser.ts";
import { ADMIN, type TestServer } from "../../server/testing/harness.ts";

/** Two-factor sign-in in Debian's Chromium against the real server (strict CSP, no page errors). */
let rig: BrowserRig;
let srv: TestServer;
let page: Page;
let secret = "";

beforeAll(async () => {
  rig = await startBrowserRig("two-factor");
  ({ srv, page } = rig);
  await rig.signIn();
}, 120_000);

afterEach(() => rig?.checkPage());
afterAll(() => rig?.stop());

/** The authenticator app: the code of `secret` at `offsetS` seconds from now. */
const codeAt = (offsetS = 0) => TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: Date.now() + offsetS * 1000 });

describe("two-factor sign-in in the dashboard", () => {
  test("Settings → Security: scan the QR code, confirm a code, see the recovery codes once", async () => {
    await page.goto(`${srv.url}/settings`);
    await page.getByTestId("totp-start").click();
    const qr = page.getByTestId("qr-code");
    await qr.waitFor();
    expect(await qr.getAttribute("src")).toStartWith("data:image/png;base64,");
    expect(await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    secret = (await page.getByTestId("totp-secret").textContent()) ?? "";
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    await page.getByTestId("totp-code").fill(codeAt());
    await page.getByTestId("totp-enable").click();
    const codes = page.getByTestId("recovery-codes");
    await codes.waitFor();
    expect(await codes.locator("li").count()).toBe(10);
    await rig.shot("settings-two-factor");
    await page.getByTestId("recovery-codes-done").click();
    await codes.waitFor({ state: "detached" });
    expect(await page.getByTestId("totp-state").textContent()).toBe("on");
    const [row] = await srv.sql`select enabled_at from user_totp t join users u on u.id = t.user_id where u.email = ${ADMIN.email}`;
    expect(row?.enabled_at).not.toBeNull();
  });

  test("the sessions list shows this browser", async () => {
    await page.getByTestId("session-current").waitFor();
    expect(await page.getByTestId("session-row").count()).toBeGreaterThanOrEqual(1);
  });

  test("sign out, then sign in: the login page asks for the code and lets the right one in", async () => {
    await page.getByTestId("logout").click();
    await page.waitForURL((u) => u.pathname === "/login");
    await page.getByTestId("login-email").fill(ADMIN.email);
    await page.getByTestId("login-password").fill(ADMIN.password);
    rig.expectHttpError(401, "/api/v1/auth/login");
    await page.getByTestId("login-submit").click();
    await page.getByTestId("login-totp").waitFor();
    // the code that turned it on is spent; the app's next one is good
    await page.getByTestId("login-totp").fill(codeAt(30));
    await page.getByTestId("login-submit").click();
    await page.waitForURL((u) => u.pathname === "/devices");
    const [audit] = await srv.sql`select details from audit_log where action = 'auth.login' order by id desc limit 1`;
    expect(audit?.details).toEqual({ secondFactor: "totp" });
  });
});
