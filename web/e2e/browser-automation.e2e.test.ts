import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import type { Page } from "playwright-core";
import type { EnrolledAgent } from "../../server/testing/agents.ts";
import { type BrowserRig, startBrowserRig } from "../../server/testing/browser.ts";
import { type TestServer, waitFor } from "../../server/testing/harness.ts";

/**
 * The Automation pages in Chromium against the real server and the real compiled agent: a webhook
 * channel added and test-sent, a rule made in the form that fires on the agent's own telemetry and
 * whose notices end as dead letters while the receiver fails, then the dead letter's Retry button
 * delivering it; a workflow from a template and one built from several action rows; a schedule on the agent found by hostname.
 */
const TAG = "browser-automation";
const SECRET = "hook-secret-123";
let rig: BrowserRig;
let srv: TestServer;
let agent: EnrolledAgent;
let page: Page;

/** A local webhook receiver; `failing` makes it answer 500. */
const sink = {
  failing: false,
  received: [] as { body: { subject?: string }; signed: boolean; status: number }[],
  server: undefined as ReturnType<typeof Bun.serve> | undefined,
  ok() {
    return this.received.filter((r) => r.status === 200);
  },
};

beforeAll(async () => {
  sink.server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const raw = await req.text();
      const expected = `sha256=${createHmac("sha256", SECRET).update(raw).digest("hex")}`;
      const status = sink.failing ? 500 : 200;
      sink.received.push({ body: JSON.parse(raw), signed: req.headers.get("x-sentpulse-signature") === expected, status });
      return new Response(null, { status });
    },
  });
  rig = await startBrowserRig(TAG, { notifyRetryBaseS: 0.2 });
  ({ srv, agent, page } = rig);
}, 120_000);

afterEach(() => rig?.checkPage());
afterAll(async () => {
  await rig?.stop();
  sink.server?.stop(true);
});

const api = async <T>(path: string) => (await (await srv.api(path)).json()) as T;
const tab = async (id: string) => {
  await page.getByTestId(`automation-tab-${id}`).click();
  await page.waitForURL((u) => u.searchParams.get("tab") === id);
};

describe("automation pages in Chromium", () => {
  test("sign in and open Automation from the navigation", async () => {
    await rig.signIn();
    await page.getByTestId("automation-nav").click();
    await page.waitForURL((u) => u.pathname === "/automation");
    await page.getByRole("heading", { name: "Alert rules" }).waitFor();
  });

  test("a webhook channel is added with a signing secret, and its test-send arrives signed", async () => {
    await tab("channels");
    await page.locator("#ch-name").fill("Ops hook");
    await page.locator("#ch-type").selectOption("webhook");
    await page.locator("#ch-url").fill(`http://127.0.0.1:${sink.server?.port}/hook`);
    await page.locator("#ch-secret").fill(SECRET);
    await page.getByTestId("channel-create").click();
    await page.getByTestId("channel-row").filter({ hasText: "Ops hook" }).waitFor();
    // the form is empty again, its type select still agreeing with the fields shown
    expect(await page.locator("#ch-name").inputValue()).toBe("");
    expect(await page.locator("#ch-type").inputValue()).toBe("webhook");
    expect(await page.locator("#ch-url").inputValue()).toBe("");
    const { items } = await api<{ items: { name: string; type: string; config?: unknown }[] }>("/api/v1/notification-channels");
    expect(items).toHaveLength(1);
    expect(JSON.stringify(items)).not.toContain(SECRET);

    await page.getByTestId("channel-test").click();
    await waitFor(
      "test outcome",
      async () => (await page.getByTestId("channel-test-outcome").textContent())?.includes("Delivered"),
      15_000,
    );
    expect(sink.received).toHaveLength(1);
    expect(sink.received[0]?.signed).toBe(true);
    await rig.shot("automation-channels");
  });

  test("a rule made in the form fires on the agent's telemetry; failed notices become dead letters; Retry delivers", async () => {
    sink.failing = true;
    await tab("rules");
    await page.locator("#r-name").fill("Any CPU at all");
    await page.locator("#r-metric").selectOption("cpu_percent");
    await page.locator("#r-op").selectOption(">=");
    await page.locator("#r-threshold").fill("0");
    await page.locator("#r-duration").fill("0");
    await page.locator("#r-sev").selectOption("critical");
    await page.locator("#r-scope").selectOption("tag");
    await page.locator("#r-scope-value").fill(`env=${TAG}`);
    await page.getByLabel("Ops hook").check();
    await page.getByTestId("rule-save").click();
    await page.getByTestId("rule-row").filter({ hasText: "Any CPU at all" }).waitFor();

    const rules = await api<{
      items: { id: string; name: string; threshold: number; scope: unknown; channelIds: string[]; enabled: boolean }[];
    }>("/api/v1/alert-rules");
    const rule = rules.items.find((r) => r.name === "Any CPU at all");
    expect(rule).toMatchObject({ threshold: 0, scope: { type: "tag", tag: `env=${TAG}` }, enabled: true });
    expect(rule?.channelIds).toHaveLength(1);

    // The agent's telemetry (every 2 s) fires it; all five attempts fail fast (0.2 s base backoff).
    await waitFor(
      "dead letter",
      async () => (await api<{ items: unknown[] }>("/api/v1/notification-dead-letters")).items.length === 1,
      60_000,
    );
    expect(sink.received.filter((r) => r.status === 500)).toHaveLength(5);

    await tab("dead-letters");
    const row = page.getByTestId("deadletter-row");
    await row.waitFor();
    expect(await row.textContent()).toContain("HTTP 500");
    await rig.shot("automation-dead-letters");
    sink.failing = false;
    await page.getByTestId("deadletter-retry").click();
    await waitFor("redelivered", async () => sink.ok().length === 2, 20_000);
    expect(sink.ok()[1]?.body.subject).toContain("Any CPU at all");
    await page.getByText("No failed deliveries.").waitFor();

    // Edit fills the form with the rule; the change is saved.
    await tab("rules");
    await page.getByTestId("rule-row").filter({ hasText: "Any CPU at all" }).getByRole("button", { name: "Edit" }).click();
    expect(await page.locator("#r-name").inputValue()).toBe("Any CPU at all");
    expect(await page.locator("#r-scope").inputValue()).toBe("tag");
    expect(await page.locator("#r-scope-value").inputValue()).toBe(`env=${TAG}`);
    expect(await page.getByLabel("Ops hook").isChecked()).toBe(true);
    await page.locator("#r-threshold").fill("1.5");
    await page.getByTestId("rule-save").click();
    await page.getByRole("heading", { name: "Alert rules" }).waitFor();
    await waitFor(
      "threshold saved",
      async () =>
        (await api<{ items: { id: string; threshold: number }[] }>("/api/v1/alert-rules")).items.find((r) => r.id === rule?.id)
          ?.threshold === 1.5,
      10_000,
    );
    expect(await page.locator("#r-name").inputValue()).toBe("");

    // Disabling the rule from the list is saved.
    await page.getByLabel("Enable rule Any CPU at all").uncheck();
    await waitFor(
      "rule disabled",
      async () =>
        (await api<{ items: { id: string; enabled: boolean }[] }>("/api/v1/alert-rules")).items.find((r) => r.id === rule?.id)?.enabled ===
        false,
      10_000,
    );
  });

  test("a script check made in the form runs on the agent and fires with the script's output", async () => {
    await tab("rules");
    await page.locator("#r-name").fill("Backup job failed");
    await page.locator("#r-metric").selectOption("script_exit_code");
    expect(await page.locator("#r-threshold").inputValue()).toBe("0");
    await page.locator("#r-check-source").selectOption("inline");
    await page.locator("#r-check-lang").selectOption("sh");
    await page.locator("#r-check-content").fill('echo "last backup is 3 days old"; exit 3');
    await page.locator("#r-check-interval").fill("10");
    await page.locator("#r-scope").selectOption("device");
    await page.locator("#r-scope-value").fill(agent.deviceId);
    await page.getByTestId("rule-save").click();
    const row = page.getByTestId("rule-row").filter({ hasText: "Backup job failed" });
    await row.waitFor();
    expect(await row.textContent()).toContain("checked every 10s");
    const alert = await waitFor(
      "check alert",
      async () => (await srv.sql<{ message: string }[]>`select message from alerts where type = 'backup_job_failed'`)[0],
      30_000,
    );
    expect(alert.message).toContain("exit code 3 — last backup is 3 days old");
    await rig.shot("automation-rules");
  });

  test("an offline rule needs no threshold in the form", async () => {
    await page.locator("#r-name").fill("Site server offline");
    await page.locator("#r-metric").selectOption("offline");
    expect(await page.locator("#r-threshold").isVisible()).toBe(false);
    await page.locator("#r-duration").fill("600");
    await page.getByTestId("rule-save").click();
    const row = page.getByTestId("rule-row").filter({ hasText: "Site server offline" });
    await row.waitFor();
    expect(await row.textContent()).toContain("offline for 600s");
    const { items } = await api<{ items: { name: string; metric: string; operator: string; threshold: number }[] }>("/api/v1/alert-rules");
    expect(items.find((r) => r.name === "Site server offline")).toMatchObject({ metric: "offline", operator: ">", threshold: 0 });
  });

  test("a workflow is created from the disk-low template", async () => {
    await tab("workflows");
    await page.locator("#wf-template").selectOption({ label: "Disk below 5 % free: clean up" });
    expect(await page.locator("#wf-name").inputValue()).toBe("Disk below 5 % free: clean up");
    expect(await page.locator("#wf-a0-content").inputValue()).not.toBe("");
    await page.getByTestId("workflow-create").click();
    await page.getByTestId("workflow-row").filter({ hasText: "Disk below 5 % free" }).waitFor();
    const { items } = await api<{ items: { name: string; trigger: { event: string }; actions: { type: string }[] }[] }>(
      "/api/v1/workflows",
    );
    expect(items).toHaveLength(1);
    expect(items[0]?.trigger.event).toBe("alert.firing");
    expect(items[0]?.actions[0]?.type).toBe("run_script");
    await page.getByRole("button", { name: "Runs" }).click();
    await page.getByTestId("workflow-runs").waitFor();
  });

  test("a workflow restarting a service and noting the alert is built from two action rows", async () => {
    await page.locator("#wf-template").selectOption({ label: "Blank workflow" });
    await page.locator("#wf-name").fill("Restart nginx and note it");
    await page.locator("#wf-alert").fill("nginx_down");
    await page.locator("#wf-a0-type").selectOption("restart_service");
    await page.locator("#wf-a0-service").fill("nginx; reboot");
    await page.getByTestId("workflow-add-action").click();
    await page.locator("#wf-a1-type").selectOption("add_note");
    await page.getByTestId("workflow-create").click();
    // both rows' problems are shown, and nothing is sent
    await page.locator("#wf-a0-service-err").filter({ hasText: "no spaces or quotes" }).waitFor();
    await page.locator("#wf-a1-text-err").filter({ hasText: "Write the note." }).waitFor();
    await page.locator("#wf-a0-service").fill("nginx");
    await page.locator("#wf-a1-text").fill("Automation restarted nginx.");
    await page.getByTestId("workflow-create").click();
    const row = page.getByTestId("workflow-row").filter({ hasText: "Restart nginx and note it" });
    await row.waitFor();
    expect(await row.getByTestId("workflow-actions").textContent()).toContain("restart service nginx");
    expect(await page.locator("#wf-name").inputValue()).toBe("");
    expect(await page.getByTestId("workflow-action").count()).toBe(1);

    const { items } = await api<{ items: { name: string; trigger: unknown; actions: unknown[] }[] }>("/api/v1/workflows");
    const wf = items.find((w) => w.name === "Restart nginx and note it");
    expect(wf?.trigger).toEqual({ event: "alert.firing", alertType: "nginx_down" });
    expect(wf?.actions).toEqual([
      { type: "restart_service", service: "nginx" },
      { type: "add_note", text: "Automation restarted nginx." },
    ]);
    await rig.shot("automation-workflows");
  });

  test("a schedule is made for the agent picked by hostname, then disabled", async () => {
    const device = await api<{ hostname: string }>(`/api/v1/devices/${agent.deviceId}`);
    await tab("schedules");
    await page.locator("#sch-name").fill("Nightly cleanup");
    await page.locator("#sch-cron").fill("30 2 * * *");
    await page.locator("#sch-tz").fill("Europe/Berlin");
    await page.locator("#sch-search").fill(device.hostname);
    await page.getByTestId("device-pick").first().click();
    await page.locator("#sch-source").selectOption("inline");
    await page.locator("#sch-lang").selectOption("sh");
    await page.locator("#sch-content").fill("echo cleaned");
    await page.getByTestId("schedule-create").click();
    const row = page.getByTestId("schedule-row").filter({ hasText: "Nightly cleanup" });
    await row.waitFor();
    expect(await row.textContent()).toContain("30 2 * * *");
    expect(await page.locator("#sch-tz").inputValue()).not.toBe("");
    expect(await page.locator("#sch-source").inputValue()).toBe("library");

    type Sch = { id: string; timezone: string; target: { deviceIds?: string[] }; enabled: boolean; nextRunAt: string };
    const [sch] = (await api<{ items: Sch[] }>("/api/v1/schedules")).items;
    expect(sch).toMatchObject({ timezone: "Europe/Berlin", target: { deviceIds: [agent.deviceId] }, enabled: true });
    // 02:30 in Berlin is 00:30 or 01:30 UTC, depending on daylight saving time.
    expect(new Date(sch?.nextRunAt ?? 0).getUTCMinutes()).toBe(30);
    await rig.shot("automation-schedules");

    await page.getByLabel("Enable schedule Nightly cleanup").uncheck();
    await waitFor("schedule disabled", async () => (await api<{ items: Sch[] }>("/api/v1/schedules")).items[0]?.enabled === false, 10_000);
  });

  test("a schedule can run a workflow made for schedules", async () => {
    const wf = await srv.api("/api/v1/workflows", {
      body: {
        name: "Monthly patch check",
        trigger: { event: "schedule" },
        actions: [{ type: "run_script", language: "sh", content: "echo ok" }],
      },
    });
    const { id: workflowId } = (await wf.json()) as { id: string };
    await page.reload();
    await page.locator("#sch-name").fill("Patch check");
    await page.locator("#sch-cron").fill("0 6 1 * *");
    await page.locator("#sch-target").selectOption("tag");
    await page.locator("#sch-tag").fill(`env=${TAG}`);
    await page.locator("#sch-source").selectOption("workflow");
    expect(await page.locator("#sch-content").count()).toBe(0);
    await page.locator("#sch-workflow").selectOption(workflowId);
    await page.getByTestId("schedule-create").click();
    await page.getByTestId("schedule-row").filter({ hasText: "Patch check" }).waitFor();
    const { items } = await api<{ items: { name: string; workflowId: string | null }[] }>("/api/v1/schedules");
    expect(items.find((x) => x.name === "Patch check")?.workflowId).toBe(workflowId);
  });

  test("a bad cron expression is refused with the server's message", async () => {
    await page.locator("#sch-name").fill("Broken");
    await page.locator("#sch-cron").fill("61 * * * *");
    await page.locator("#sch-target").selectOption("tag");
    await page.locator("#sch-tag").fill(`env=${TAG}`);
    await page.locator("#sch-source").selectOption("inline");
    await page.locator("#sch-content").fill("echo never");
    rig.expectHttpError(400, "/api/v1/schedules");
    await page.getByTestId("schedule-create").click();
    await page.getByRole("alert").filter({ hasText: /cron/i }).waitFor();
    expect((await api<{ items: unknown[] }>("/api/v1/schedules")).items).toHaveLength(2);
  });

  test("a schedule can wake its devices before a patch window (no script)", async () => {
    await page.reload();
    await page.locator("#sch-name").fill("Wake before patching");
    await page.locator("#sch-cron").fill("50 1 * * 6");
    await page.locator("#sch-target").selectOption("tag");
    await page.locator("#sch-tag").fill(`env=${TAG}`);
    await page.locator("#sch-source").selectOption("wake");
    expect(await page.locator("#sch-content").count()).toBe(0);
    expect(await page.locator("#sch-script").count()).toBe(0);
    await page.getByTestId("schedule-create").click();
    const row = page.getByTestId("schedule-row").filter({ hasText: "Wake before patching" });
    await row.getByText("wake", { exact: true }).waitFor();
    const { items } = await api<{ items: { name: string; wake: boolean; spec: unknown }[] }>("/api/v1/schedules");
    expect(items.find((x) => x.name === "Wake before patching")).toMatchObject({ wake: true, spec: null });
  });
});
