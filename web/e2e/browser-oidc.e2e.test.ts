import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { type BrowserRig, startBrowserRig } from "../../server/testing/browser.ts";
import type { TestServer } from "../../server/testing/harness.ts";
import { startTestIdp, type TestIdp } from "../../server/testing/oidc-provider.ts";

/**
 * OpenID Connect sign-in in Debian's Chromium: an admin configures a real provider (`oidc-provider`
 * on another loopback port) in Settings, then a new technician signs in with its button.
 */
let rig: BrowserRig;
let srv: TestServer;
let page: Page;
let idp: TestIdp;

beforeAll(async () => {
  rig = await startBrowserRig("oidc");
  ({ srv, page } = rig);
  idp = await startTestIdp(`${srv.url}/api/v1/auth/oidc/callback`);
  idp.users.set("sam@example.com", { email: "sam@example.com", verified: true, name: "Sam Sso" });
  idp.users.set("eve@elsewhere.org", { email: "eve@elsewhere.org", verified: true });
  await rig.signIn();
}, 120_000);

afterEach(() => rig?.checkPage());
afterAll(async () => {
  await idp?.stop();
  await rig?.stop();
});

describe("single sign-on in the dashboard", () => {
  test("Settings → Single sign-on: the provider is checked and saved", async () => {
    await page.goto(`${srv.url}/settings`);
    const sso = page.getByTestId("sso");
    await sso.waitFor();
    expect(await page.getByTestId("sso-redirect-uri").textContent()).toBe(`${srv.url}/api/v1/auth/oidc/callback`);
    await page.getByTestId("sso-issuer").fill(idp.issuer);
    await page.getByTestId("sso-clientId").fill(idp.clientId);
    await page.getByTestId("sso-clientSecret").fill(idp.clientSecret);
    await page.getByTestId("sso-allowedDomains").fill("example.com");
    await page.getByTestId("sso-buttonLabel").fill("Test IdP");
    await page.getByTestId("sso-autoCreate").check();
    await page.getByTestId("sso-save").click();
    await page.getByTestId("sso-state").waitFor();
    await rig.shot("settings-sso");
    const [row] = await srv.sql`select button_label, auto_create from organization_oidc`;
    expect(row).toEqual({ button_label: "Test IdP", auto_create: true });
  });

  test("sign out; 'Sign in with Test IdP', sign in at the provider, land on the devices signed in", async () => {
    await page.getByTestId("logout").click();
    await page.waitForURL((u) => u.pathname === "/login");
    const button = page.getByTestId("sso-button");
    expect(await button.textContent()).toBe("Sign in with Test IdP");
    await rig.shot("login-sso");
    await button.click();
    await page.waitForURL((u) => u.href.startsWith(idp.issuer));
    await page.getByTestId("idp-login").fill("sam@example.com");
    await page.getByTestId("idp-submit").click();
    await page.waitForURL((u) => u.origin === srv.url && u.pathname === "/devices");
    await page.getByTestId("device-row").first().waitFor();
    const [user] = await srv.sql`select role, name from users where email = 'sam@example.com'`;
    expect(user).toEqual({ role: "technician", name: "Sam Sso" });
    const [audit] =
      await srv.sql`select actor_name, details->>'via' as via from audit_log where action = 'auth.login' order by id desc limit 1`;
    expect(audit).toEqual({ actor_name: "sam@example.com", via: "oidc" });
  });

  test("a refused sign-in comes back to the login page saying why", async () => {
    await page.getByTestId("logout").click();
    await page.waitForURL((u) => u.pathname === "/login");
    // Sam is still signed in at the provider: forget that session there, so that someone else can sign in
    await page.context().clearCookies({ name: /^_session/ });
    await page.getByTestId("sso-button").click();
    await page.waitForURL((u) => u.href.startsWith(idp.issuer));
    await page.getByTestId("idp-login").fill("eve@elsewhere.org");
    await page.getByTestId("idp-submit").click();
    await page.waitForURL((u) => u.origin === srv.url && u.pathname === "/login");
    expect(await page.getByTestId("sso-login-error").textContent()).toContain("domain may not sign in");
    expect((await srv.sql`select 1 from users where email = 'eve@elsewhere.org'`).count).toBe(0);
  });
});
