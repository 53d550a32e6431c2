import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { type BrowserRig, startBrowserRig } from "../../server/testing/browser.ts";
import type { TestServer } from "../../server/testing/harness.ts";

/** Policies and API keys in Debian's Chromium against the real server and a real agent (tagged env=policies). */
let rig: BrowserRig;
let srv: TestServer;
let page: Page;
let site: { id: string; label: string };

beforeAll(async () => {
  rig = await startBrowserRig("policies");
  ({ srv, page } = rig);
  const [row] = await srv.sql<{ id: string; site: string; client: string }[]>`
    select s.id, s.name as site, c.name as client from devices d join sites s on s.id = d.site_id join clients c on c.id = s.client_id
    where d.id = ${rig.agent.deviceId}`;
  site = { id: row!.id, label: row!.site === row!.client ? row!.site : `${row!.client} / ${row!.site}` };
  await rig.signIn();
}, 120_000);

afterEach(() => rig?.checkPage());
afterAll(() => rig?.stop());

describe("policies", () => {
  test("create a policy, give it a rule from the rules tab, attach it to the agent's site; the device's view explains it; a block stops it", async () => {
    await page.goto(`${srv.url}/automation?tab=policies`);
    const create = page.getByTestId("policy-create");
    await create.getByLabel("New policy").fill("Baseline servers");
    await create.getByLabel("Description").fill("What every server gets");
    await create.getByRole("button", { name: "Create policy" }).click();
    const detail = page.getByTestId("policy-detail");
    await detail.getByRole("heading", { name: "Baseline servers" }).waitFor();
    await detail.getByText("Not attached: it applies nowhere yet.").waitFor();

    // a rule for the policy: the rules tab opens with the policy chosen as its scope
    await detail.getByRole("link", { name: "Add a rule or check" }).click();
    await page.waitForURL((u) => u.searchParams.get("tab") === "rules");
    await page.getByLabel("Name").fill("Baseline CPU");
    expect(await page.locator("#r-scope").inputValue()).toBe("policy");
    expect(await page.locator("#r-scope-value option:checked").textContent()).toBe("Baseline servers");
    await page
      .getByRole("button", { name: /save|create/i })
      .first()
      .click();
    await page.getByRole("cell", { name: "policy: Baseline servers" }).waitFor();

    // attach it to the agent's site
    await page.goto(`${srv.url}/automation?tab=policies`);
    await page.getByTestId("policy-row").getByRole("button", { name: "Baseline servers" }).click();
    await detail.getByTestId("policy-rules").getByText("Baseline CPU").waitFor();
    const attach = detail.getByTestId("policy-attach");
    await attach.getByLabel("Where").selectOption("site");
    await attach.getByLabel("Site").selectOption({ label: site.label });
    await attach.getByRole("button", { name: "Attach" }).click();
    await detail.getByTestId("policy-assignments").getByText(site.label).waitFor();
    await page.getByTestId("policy-row").filter({ hasText: "Baseline servers" }).getByText("1 place(s)").waitFor();
    await rig.shot("policies");

    // the device's effective policy: the policy through its site, and the rule from it
    const effective = async () =>
      (await (await srv.api(`/api/v1/devices/${rig.agent.deviceId}/policies`)).json()) as {
        policies: { policyName: string; applied: boolean }[];
        rules: { rule: { name: string } }[];
      };
    expect((await effective()).policies).toEqual([expect.objectContaining({ policyName: "Baseline servers", applied: true })]);
    expect((await effective()).rules.map((r) => r.rule.name)).toContain("Baseline CPU");
    // the same on the device's Policies tab, as a technician reads it
    await page.goto(`${srv.url}/devices/${rig.agent.deviceId}?tab=policies`);
    const tab = page.getByTestId("device-policies");
    await tab.getByTestId("dp-policy-list").getByText("Baseline servers").waitFor();
    expect(await tab.getByTestId("dp-policy-list").textContent()).toContain(`via site ${site.label}`);
    const rule = tab.getByTestId("dp-rule-list").locator("li").filter({ hasText: "Baseline CPU" });
    expect(await rule.textContent()).toContain(`from policy Baseline servers, attached to site ${site.label}`);
    await rig.shot("device-policies");
    await page.goto(`${srv.url}/automation?tab=policies`);

    // block inheritance on the device itself: a site's policy stops there
    const blockForm = page.getByTestId("policy-block-form");
    await blockForm.getByLabel("Where").selectOption("device");
    const [device] = await srv.sql<{ hostname: string }[]>`select hostname from devices where id = ${rig.agent.deviceId}`;
    await blockForm.locator("input").first().fill(device!.hostname);
    await blockForm.getByRole("button", { name: device!.hostname }).click();
    await blockForm.getByRole("button", { name: "Block inheritance" }).click();
    await page.getByTestId("policy-blocks").getByText(device!.hostname).waitFor();
    expect((await effective()).policies).toEqual([expect.objectContaining({ policyName: "Baseline servers", applied: false })]);
    expect((await effective()).rules.map((r) => r.rule.name)).not.toContain("Baseline CPU");
    await page.goto(`${srv.url}/devices/${rig.agent.deviceId}?tab=policies`);
    await page.getByTestId("dp-blocks").getByText(`Inheritance blocked at device ${device!.hostname}`).waitFor();
    expect(await page.getByTestId("dp-policy-list").textContent()).toContain(`blocked at device ${device!.hostname}`);
  });
});

describe("API keys", () => {
  test("a key limited to one client and two permissions is shown once, listed with its limits, and rotates", async () => {
    await page.goto(`${srv.url}/settings`);
    const form = page.locator("form").filter({ has: page.getByTestId("apikey-create") });
    await form.getByLabel("Name").fill("Client sync");
    await form.getByLabel("Role").selectOption("technician");
    await form.getByLabel("Only some clients").check();
    await form.getByTestId("apikey-clients").locator("input").first().check();
    await form.getByLabel("Only some permissions").check();
    await form.getByTestId("apikey-scopes").getByLabel("device:view").check();
    await form.getByTestId("apikey-scopes").getByLabel("alert:manage").check();
    await page.getByTestId("apikey-create").click();
    await page.getByTestId("apikey-value").waitFor();
    expect(await page.getByTestId("apikey-value").textContent()).toMatch(/^spk_/);
    const row = page.getByTestId("apikey-row").filter({ hasText: "Client sync" });
    await row.getByText("device:view, alert:manage").waitFor();
    await rig.shot("api-keys");
    const [stored] = await srv.sql<{ scopes: string[]; clientIds: string[] }[]>`
      select scopes, client_ids as "clientIds" from api_keys where name = 'Client sync'`;
    expect(stored!.scopes.sort()).toEqual(["alert:manage", "device:view"]);
    expect(stored!.clientIds.length).toBe(1);

    await page.getByRole("button", { name: "I saved it" }).click();
    await row.getByTestId("apikey-rotate").click();
    await page.getByRole("dialog").getByRole("button", { name: "Rotate key" }).click();
    await page.getByTestId("apikey-value").waitFor();
    await page.getByText(/rotated; the old key works for 1 more hours/).waitFor();
    expect((await srv.sql`select 1 from api_keys where name = 'Client sync' and rotated_from is not null`).count).toBe(1);
  });
});
