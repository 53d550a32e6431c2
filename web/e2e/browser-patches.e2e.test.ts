import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import type { EnrolledAgent } from "../../server/testing/agents.ts";
import { type AptRepo, aptRepo } from "../../server/testing/apt-repo.ts";
import { type BrowserRig, startBrowserRig } from "../../server/testing/browser.ts";
import { enrollDevice } from "../../server/testing/fixtures.ts";
import { type TestServer, waitFor } from "../../server/testing/harness.ts";
import { recordScan } from "../../server/patches/updates.store.ts";

/**
 * Patching in Chromium against the real server, the real compiled agent and the real apt: a
 * repository built by the test offers version 2.0 of a tiny package in a security pocket; the
 * technician scans from the device's Updates tab, sees the security update awaiting approval,
 * approves it, installs it and watches apt's output arrive, then finds the device fully patched on the
 * Patches page and no longer among the devices with the package below version 2. Patch settings of
 * a policy are added, changed (every field kept that the form did not touch) and removed, each
 * audited; updates are found by their CVE id and show their ids.
 */
const PKG = `sentpulse-ui-${crypto.randomUUID().slice(0, 6)}`;
let rig: BrowserRig;
let srv: TestServer;
let agent: EnrolledAgent;
let page: Page;
let repo: AptRepo;

beforeAll(async () => {
  repo = aptRepo({ packages: [PKG], from: "1.0", to: "2.0", suite: "stable-security", origin: "SENTpulse-Test" });
  repo.installLocal(PKG, "1.0");
  process.env.APT_CONFIG = repo.aptConfig; // inherited by the agent the rig starts
  rig = await startBrowserRig("browser-patches");
  delete process.env.APT_CONFIG;
  ({ srv, agent, page } = rig);
}, 120_000);
afterEach(() => rig?.checkPage());
afterAll(async () => {
  await rig?.stop();
  repo?.cleanup();
});

const row = () => page.locator(`[data-testid="update-row"][data-name="${PKG}"]`);

describe("patching in Chromium", () => {
  test("sign in; the agent is online", async () => {
    await rig.signIn();
    await waitFor(
      "online",
      async () => (await srv.sql`select status from devices where id = ${agent.deviceId}`)[0]?.status === "online",
      30_000,
    );
  });

  test("Updates tab: Scan now finds the security update awaiting approval, and the installed software", async () => {
    await page.goto(`${srv.url}/devices/${agent.deviceId}?tab=updates`);
    await page.getByTestId("updates-scan").click();
    await row().waitFor({ timeout: 60_000 });
    const text = await row().textContent();
    expect(text).toContain("security");
    expect(text).toContain("1.0 → 2.0");
    expect(await row().getByTestId("update-approval").textContent()).toBe("awaiting approval");
    expect(await row().getByTestId("update-state").textContent()).toBe("pending");
    await page.getByText(/Scan done: \d+ updates? pending/).waitFor();
    const total = await page.getByTestId("software-total").textContent();
    expect(Number((total ?? "").replace(/[^\d]/g, ""))).toBeGreaterThan(100);
    await rig.shot("patches-device-updates");
  }, 90_000);

  test("Approve (for this device), pick it, Install now: apt's output arrives live and the row turns installed", async () => {
    await row().getByRole("button", { name: "Approve" }).click();
    // the device page decides for its device only
    await page.getByText("Approved for this device: it installs at its next window").waitFor();
    expect((await srv.sql`select count(*)::int as n from patch_device_approvals where device_id = ${agent.deviceId}`)[0]?.n).toBe(1);
    expect((await srv.sql`select count(*)::int as n from patch_approvals`)[0]?.n).toBe(0);
    await page.waitForFunction(
      (name) =>
        document.querySelector(`[data-testid="update-row"][data-name="${name}"] [data-testid="update-approval"]`)?.textContent ===
        "approved",
      PKG,
    );
    await row().getByRole("checkbox").check();
    await page.getByTestId("updates-install").click();
    const output = page.getByTestId("install-output").getByTestId("command-output");
    await page.waitForFunction(
      (name) =>
        document
          .querySelector('[data-testid="install-output"] [data-testid="command-output"]')
          ?.textContent?.includes(`[patch] ${name}=2.0: installed`),
      PKG,
      { timeout: 120_000 },
    );
    expect(await output.textContent()).toContain(`Unpacking ${PKG} (2.0) over (1.0)`);
    await page.waitForFunction(
      (name) =>
        document.querySelector(`[data-testid="update-row"][data-name="${name}"] [data-testid="update-state"]`)?.textContent === "installed",
      PKG,
      { timeout: 60_000 },
    );
    expect(repo.installedVersion(PKG)).toBe("2.0");
    await rig.shot("patches-device-installed");
  }, 180_000);

  test("Patches page: the device is fully patched; the software search finds it at 2.0, none below 2", async () => {
    await page.getByTestId("patches-nav").click();
    await page.waitForURL((u) => u.pathname === "/patches");
    const device = page.getByTestId("compliance-row").first();
    await device.waitFor();
    expect(await device.getByTestId("compliance-status").textContent()).toBe("fully patched");
    expect(await page.getByTestId("compliance-percent").textContent()).toBe("100%");
    await page.getByLabel("Program name").fill(PKG);
    await page.getByLabel("Version condition").selectOption("<");
    await page.getByLabel("Version", { exact: true }).fill("2");
    await page.getByTestId("software-search").click();
    await page.getByTestId("software-found").getByText("0 devices").waitFor();
    await page.getByLabel("Version condition").selectOption(">=");
    await page.getByTestId("software-search").click();
    await page.getByTestId("software-found").getByText("1 device ·").waitFor();
    expect(await page.getByTestId("software-results").textContent()).toContain("2.0");
    await rig.shot("patches-page");
  }, 60_000);

  test("Patch policies: add settings to a policy attached to the organization, see them listed, open a window now", async () => {
    const policy = (await (await srv.api("/api/v1/policies", { body: { name: "Workstations" } })).json()) as { id: string };
    await srv.api(`/api/v1/policies/${policy.id}/assignments`, { body: { target: { type: "organization" } } });
    await page.reload();
    await page.getByTestId("patch-policy-add").click();
    await page.getByLabel("Policy").selectOption({ label: "Workstations" });
    await page.getByLabel("Maintenance window (cron)").fill("0 2 * * 6");
    await page.getByLabel("Time zone").fill("Europe/Paris");
    await page.getByLabel("Never install").fill("linux-image-*");
    await page.getByTestId("patch-policy-save").click();
    const row = page.getByTestId("patch-policy");
    await row.waitFor();
    const text = await row.textContent();
    expect(text).toContain("Workstations");
    expect(text).toContain("critical, security");
    expect(text).toContain("0 2 * * 6 · 120 min · Europe/Paris");
    expect(text).toContain("linux-image-*");
    await rig.shot("patches-policies");
    await row.getByTestId("patch-window-open").click();
    // everything approved is already installed: the window finds nothing to do, and says so
    await page.getByText("Window open: 0 updates on 0 devices").waitFor();
    const [audit] = await srv.sql`select actor_name from audit_log where action = 'patch.window_open'`;
    expect(audit?.actor_name).toBe("admin@example.com");
  }, 60_000);

  test("compliance of a client or a smart group: the scope picker narrows the devices and the downloads", async () => {
    await srv.api("/api/v1/groups", { body: { name: "Nobody", expression: 'hostname = "no-such-host"' } });
    await page.reload();
    await page.getByTestId("compliance-row").first().waitFor();
    await page.getByTestId("compliance-scope").selectOption({ label: "Client: Default client" });
    await page.getByTestId("compliance-row").first().waitFor();
    expect(await page.getByTestId("compliance-csv").getAttribute("href")).toContain("clientId=");
    await page.getByTestId("compliance-scope").selectOption({ label: "Group: Nobody" });
    await page.getByText("No devices yet.").waitFor();
    expect(await page.getByTestId("compliance-percent").textContent()).toBe("0%");
    expect(await page.getByTestId("compliance-pdf").getAttribute("href")).toContain("groupId=");
  }, 60_000);

  test("Patch policies: Edit shows the settings as saved; a change is listed, audited, and keeps what the form did not touch", async () => {
    const before = (await (await srv.api("/api/v1/patch-policies")).json()) as { items: { id: string; scanIntervalHours: number }[] };
    const id = before.items[0]?.id as string;
    await srv.api(`/api/v1/patch-policies/${id}`, {
      method: "PUT",
      body: {
        policyId: ((await (await srv.api(`/api/v1/patch-policies/${id}`)).json()) as { policyId: string }).policyId,
        autoApprove: ["critical", "security"],
        window: { cron: "0 2 * * 6", durationMinutes: 120, timezone: "Europe/Paris" },
        exclusions: ["linux-image-*"],
        scanIntervalHours: 12,
      },
    });
    await page.reload();
    const row = page.locator('[data-testid="patch-policy"][data-policy="Workstations"]');
    await row.getByTestId("patch-policy-edit").click();
    const form = page.getByTestId("patch-policy-edit-form");
    await form.waitFor();
    expect(await form.getByTestId("patch-policy-edit-name").textContent()).toBe("Workstations");
    expect(await form.getByLabel("Maintenance window (cron)").inputValue()).toBe("0 2 * * 6");
    expect(await form.getByLabel("Time zone").inputValue()).toBe("Europe/Paris");
    expect(await form.getByLabel("Never install").inputValue()).toBe("linux-image-*");
    expect(await form.getByLabel("Scan every (hours)").inputValue()).toBe("12");
    expect(await form.getByRole("checkbox", { name: "critical" }).isChecked()).toBe(true);
    await rig.shot("patches-policy-edit");
    await form.getByLabel("Maintenance window (cron)").fill("30 3 * * 0");
    await form.getByLabel("Lasting (minutes)").fill("90");
    await form.getByLabel("Reboot", { exact: true }).selectOption({ label: "never" });
    await form.getByRole("checkbox", { name: "critical" }).uncheck();
    await form.getByTestId("patch-policy-save").click();
    await page.getByText("Patch settings of Workstations changed").waitFor();
    await page.getByTestId("patch-policy-edit-form").waitFor({ state: "detached" });
    // the list reloads after the save: wait for the row to show the change
    await row.getByTestId("patch-policy-window").filter({ hasText: "30 3 * * 0 · 90 min · Europe/Paris" }).waitFor();
    expect(await row.getByTestId("patch-policy-auto").textContent()).toBe("security");
    expect(await row.textContent()).toContain("never");
    const after = (await (await srv.api(`/api/v1/patch-policies/${id}`)).json()) as Record<string, unknown>;
    expect(after).toMatchObject({ reboot: "never", exclusions: ["linux-image-*"], scanIntervalHours: 12, rebootDelaySeconds: 300 });
    const [audit] =
      await srv.sql`select actor_name, target_id from audit_log where action = 'patch_policy.update' order by created_at desc limit 1`;
    expect(audit).toEqual({ actor_name: "admin@example.com", target_id: id });
  }, 60_000);

  test("Patch policies: Remove asks first; confirmed, the settings are gone and the removal audited", async () => {
    const row = page.locator('[data-testid="patch-policy"][data-policy="Workstations"]');
    await row.getByTestId("patch-policy-remove").click();
    const dialog = page.getByRole("dialog", { name: "Remove patch settings?" });
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    expect(await row.count()).toBe(1);
    await row.getByTestId("patch-policy-remove").click();
    await dialog.getByRole("button", { name: "Remove" }).click();
    await page.getByText("Patch settings removed from Workstations").waitFor();
    await page.getByText("No policy has patch settings yet").waitFor();
    const [audit] = await srv.sql`select actor_name from audit_log where action = 'patch_policy.delete'`;
    expect(audit?.actor_name).toBe("admin@example.com");
  }, 60_000);

  test("CVE and advisory ids: shown with each update, and a CVE id finds the updates that fix it, fleet-wide and per device", async () => {
    // a second device reports a dnf scan with advisories (stored as the server stores any agent's scan)
    const rhel = await enrollDevice(srv, "rhel-web-01", []);
    const org = (await srv.sql`select organization_id from devices where id = ${rhel.deviceId}`)[0]?.organization_id as string;
    const dnf = (name: string, ids: string[], classification: "critical" | "security") => ({
      source: "dnf" as const,
      name,
      title: `${name} 1.1-1`,
      currentVersion: "1.0-1",
      version: "1.1-1",
      classification,
      severity: classification === "critical" ? "Critical" : "Important",
      ids,
      origin: "baseos",
      sizeBytes: null,
      rebootRequired: null,
    });
    await recordScan(
      srv.sql,
      org,
      rhel.deviceId,
      {
        inventory: { mode: "same", hash: "0".repeat(64) },
        updates: [
          dnf("openssl-libs", ["RHSA-2026:1001", "CVE-2026-1001", "CVE-2026-1002"], "security"),
          dnf("kernel-core", ["RHSA-2026:1002", "CVE-2026-2001"], "critical"),
        ],
        sources: ["dnf"],
        problems: [],
        durationMs: 1,
        peakRssBytes: null,
      },
      new Date(),
    );
    await page.reload();
    await page.locator('[data-testid="fleet-update"][data-name="openssl-libs"]').waitFor();
    expect(await page.locator('[data-testid="fleet-update"][data-name="openssl-libs"] [data-testid="update-ids"]').textContent()).toBe(
      "CVE-2026-1001CVE-2026-1002RHSA-2026:1001",
    );
    await page.getByTestId("updates-search").fill("cve-2026-2001");
    await page.getByTestId("updates-search").press("Enter");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="fleet-update"]').length === 1);
    expect(await page.getByTestId("fleet-update").getAttribute("data-name")).toBe("kernel-core");
    await rig.shot("patches-search-cve");
    await page.getByTestId("updates-search").fill("CVE-1999-0001");
    await page.getByTestId("updates-search").press("Enter");
    await page.getByTestId("fleet-updates-empty").waitFor();

    await page.goto(`${srv.url}/devices/${rhel.deviceId}?tab=updates`);
    await page.locator('[data-testid="update-row"][data-name="kernel-core"]').waitFor();
    await page.getByTestId("device-updates-search").fill("RHSA-2026:1001");
    await page.getByTestId("device-updates-search").press("Enter");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="update-row"]').length === 1);
    expect(await page.getByTestId("update-row").getAttribute("data-name")).toBe("openssl-libs");
    expect(await page.getByTestId("update-row").getByTestId("update-ids").textContent()).toContain("CVE-2026-1002");
    await rig.shot("patches-device-ids");
  }, 60_000);
});
