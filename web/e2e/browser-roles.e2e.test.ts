import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { type BrowserRig, startBrowserRig } from "../../server/testing/browser.ts";
import type { TestServer } from "../../server/testing/harness.ts";

/** Settings → Roles and a viewer's device page, in Debian's Chromium against the real server (strict CSP, no page errors). */
let rig: BrowserRig;
let srv: TestServer;
let page: Page;

beforeAll(async () => {
  rig = await startBrowserRig("roles");
  ({ srv, page } = rig);
  await rig.signIn();
}, 120_000);

afterEach(() => rig?.checkPage());
afterAll(() => rig?.stop());

describe("roles and permissions in the dashboard", () => {
  test("an owner creates a custom role by ticking permissions; it is stored with exactly those", async () => {
    await page.goto(`${srv.url}/settings`);
    const form = page.getByTestId("role-create");
    await form.getByLabel("Name", { exact: true }).fill("Helpdesk");
    await form.getByRole("checkbox", { name: /device:view/ }).check();
    await form.getByRole("checkbox", { name: /alert:manage/ }).check();
    await form.getByRole("button", { name: "Create role" }).click();
    const row = page.getByTestId("role-row").filter({ hasText: "Helpdesk" });
    await row.waitFor();
    expect(await row.textContent()).toContain("alert:manage");
    await rig.shot("settings-roles");
    const [stored] = await srv.sql<{ permissions: string[] }[]>`select permissions from roles where name = 'Helpdesk'`;
    expect(stored?.permissions).toEqual(["device:view", "alert:manage"]);

    await row.getByTestId("role-edit").click();
    await expect(form.getByRole("checkbox", { name: /alert:manage/ }).isChecked()).resolves.toBe(true);
    await form.getByRole("checkbox", { name: /device:manage/ }).check();
    await form.getByRole("button", { name: "Save Helpdesk" }).click();
    await row.getByText("device:manage").waitFor();
    const [saved] = await srv.sql<{ permissions: string[] }[]>`select permissions from roles where name = 'Helpdesk'`;
    expect(saved?.permissions).toEqual(["device:view", "device:manage", "alert:manage"]);
  });

  test("the new role is offered in Settings → Users; a user created with it holds it", async () => {
    await page.goto(`${srv.url}/settings`);
    const form = page.getByRole("form", { name: "Add a user" });
    await form.getByLabel("Email").fill("helpdesk@example.com");
    await page.getByTestId("user-role").selectOption({ label: "Helpdesk" });
    await page.getByTestId("user-password").fill("a long password");
    await page.getByTestId("user-password-confirm").fill("a long password");
    await page.getByTestId("user-create").click();
    const row = page.locator('[data-testid="user-row"][data-email="helpdesk@example.com"]');
    await row.waitFor();
    const [user] = await srv.sql<{ role_id: string | null }[]>`select role_id from users where email = 'helpdesk@example.com'`;
    const [role] = await srv.sql<{ id: string }[]>`select id from roles where name = 'Helpdesk'`;
    expect(user?.role_id).toBe(role!.id);
  });

  test("a user limited to a client, then to a client and a smart group: chosen in Settings → Users, stored, shown", async () => {
    const group = await srv.api("/api/v1/groups", { body: { name: "Pilot ring", expression: 'tag.ring = "pilot"' } });
    expect(group.status).toBe(201);
    await page.goto(`${srv.url}/settings`);
    const form = page.getByRole("form", { name: "Add a user" });
    await form.getByLabel("Email").fill("client-tech@example.com");
    await page.getByTestId("user-role").selectOption("technician");
    await page.getByTestId("user-clients").selectOption({ label: "Default client" });
    await page.getByTestId("user-password").fill("a long password");
    await page.getByTestId("user-password-confirm").fill("a long password");
    await page.getByTestId("user-create").click();
    const row = page.locator('[data-testid="user-row"][data-email="client-tech@example.com"]');
    await row.getByTestId("user-clients-pill").waitFor();
    expect(await row.getByTestId("user-clients-pill").textContent()).toContain("Default client");
    const [user] = await srv.sql<{ n: number }[]>`
      select cardinality(client_ids)::int as n from users where email = 'client-tech@example.com'`;
    expect(user?.n).toBe(1);

    // widened to the whole organization from the row, then limited again
    await row.getByTestId("user-clients-edit").locator("summary").click();
    await row.getByLabel("Whole organization").check();
    await row.getByRole("button", { name: "Save" }).click();
    await page.getByText("client-tech@example.com reaches the whole organization.").waitFor();
    await row.getByTestId("user-clients-pill").waitFor({ state: "detached" });
    const [wide] = await srv.sql<{ ids: string[] | null }[]>`select client_ids as ids from users where email = 'client-tech@example.com'`;
    expect(wide?.ids).toBeNull();
    await row.getByTestId("user-clients-edit").locator("summary").click();
    await row.getByLabel("Only these clients").check();
    await row.getByLabel("Default client").check();
    await row.getByLabel("group Pilot ring").check();
    await rig.shot("user-clients");
    await row.getByRole("button", { name: "Save" }).click();
    await page.getByText("client-tech@example.com now reaches 1 client(s) and 1 smart group(s).").waitFor();
    await row.getByTestId("user-clients-pill").waitFor();
    expect(await row.getByTestId("user-clients-pill").textContent()).toBe("Default client, group Pilot ring");
    const [both] = await srv.sql<{ c: number; g: number }[]>`
      select cardinality(client_ids)::int as c, cardinality(group_ids)::int as g from users where email = 'client-tech@example.com'`;
    expect(both).toEqual({ c: 1, g: 1 });
  });

  test("a viewer sees the device but none of its actions, and no Roles or Audit", async () => {
    const made = await srv.api("/api/v1/users", { body: { email: "viewer@example.com", password: "a long password", role: "viewer" } });
    expect(made.status).toBe(201);
    await page.context().clearCookies();
    await page.goto(`${srv.url}/login`);
    await page.getByTestId("login-email").fill("viewer@example.com");
    await page.getByTestId("login-password").fill("a long password");
    await page.getByTestId("login-submit").click();
    await page.waitForURL((u) => u.pathname === "/devices");

    await page.goto(`${srv.url}/devices/${rig.agent.deviceId}`);
    await page.getByRole("toolbar", { name: "Device actions" }).waitFor({ state: "attached" });
    for (const id of ["terminal-open", "run-script-open", "power-reboot", "power-shutdown", "device-remove"]) {
      expect(await page.getByTestId(id).count()).toBe(0);
    }
    expect(await page.getByTestId("audit-nav").count()).toBe(0);
    expect(await page.getByRole("link", { name: "Add device" }).count()).toBe(0);
    await page.goto(`${srv.url}/settings`);
    await page.getByRole("heading", { name: "Clients and sites" }).waitFor();
    expect(await page.getByTestId("roles-section").count()).toBe(0);
    await page.goto(`${srv.url}/automation`);
    await page.getByRole("heading", { name: "Alert rules" }).waitFor();
    expect(await page.getByTestId("automation-tab-channels").count()).toBe(0);
    expect(await page.locator("form.auto-form").count()).toBe(0);
    await page.goto(`${srv.url}/automation?tab=workflows`);
    await page.getByRole("heading", { name: "Workflows" }).waitFor();
    expect(await page.getByTestId("workflow-create").count()).toBe(0);
  });
});
