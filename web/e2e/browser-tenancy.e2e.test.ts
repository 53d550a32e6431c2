import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { type BrowserRig, startBrowserRig } from "../../server/testing/browser.ts";
import type { TestServer } from "../../server/testing/harness.ts";

/** Clients and sites in Settings, in Debian's Chromium against the real server (strict CSP, no page errors). */
let rig: BrowserRig;
let srv: TestServer;
let page: Page;

beforeAll(async () => {
  rig = await startBrowserRig("tenancy");
  ({ srv, page } = rig);
  await rig.signIn();
}, 120_000);

afterEach(() => rig?.checkPage());
afterAll(() => rig?.stop());

describe("clients and sites in Settings", () => {
  test("an admin adds a client and a site, sees the default site's device, and deletes the empty site", async () => {
    await page.goto(`${srv.url}/settings`);
    const clients = page.getByTestId("client-row");
    await clients.first().waitFor();
    // the first start's client holds the enrolled agent's device
    expect(await clients.filter({ hasText: "Default client" }).textContent()).toContain("1 device");

    await page.getByTestId("client-add").getByPlaceholder("New client").fill("Acme");
    await page.getByTestId("client-add").getByRole("button", { name: "Add client" }).click();
    const acme = clients.filter({ hasText: "Acme" });
    await acme.waitFor();
    await acme.getByPlaceholder("New site").fill("Head office");
    await acme.getByRole("button", { name: "Add site" }).click();
    await acme.getByTestId("site-row").filter({ hasText: "Head office" }).waitFor();
    await rig.shot("settings-clients");

    await acme.getByTestId("site-row").filter({ hasText: "Head office" }).getByRole("button", { name: "Delete" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await acme.getByTestId("site-row").first().waitFor({ state: "detached" });
    const [row] = await srv.sql<{ n: number }[]>`select count(*)::int as n from sites where name = 'Head office'`;
    expect(row?.n).toBe(0);
  });

  test("a technician moves a device to another site from its page; that site can then not be deleted", async () => {
    await page.goto(`${srv.url}/settings`);
    const acme = page.getByTestId("client-row").filter({ hasText: "Acme" });
    await acme.getByPlaceholder("New site").fill("Branch");
    await acme.getByRole("button", { name: "Add site" }).click();
    await acme.getByTestId("site-row").filter({ hasText: "Branch" }).waitFor();

    await page.goto(`${srv.url}/devices/${rig.agent.deviceId}`);
    await page.getByTestId("device-site").selectOption({ label: "Acme / Branch" });
    await page.getByText("The device was moved.").waitFor();
    const [device] = await srv.sql<{ site: string }[]>`
      select s.name as site from devices d join sites s on s.id = d.site_id where d.id = ${rig.agent.deviceId}`;
    expect(device?.site).toBe("Branch");

    await page.goto(`${srv.url}/settings`);
    const branch = page.getByTestId("client-row").filter({ hasText: "Acme" }).getByTestId("site-row").filter({ hasText: "Branch" });
    expect(await branch.textContent()).toContain("1 device");
    const [site] = await srv.sql<{ id: string }[]>`select id from sites where name = 'Branch'`;
    rig.expectHttpError(409, `/api/v1/sites/${site?.id}`);
    await branch.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await page.getByText(/move or remove its devices first/i).waitFor();
  });
});
