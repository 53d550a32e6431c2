import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { Subprocess } from "bun";
import type { Page } from "playwright-core";
import type { EnrolledAgent } from "../../server/testing/agents.ts";
import { type BrowserRig, startBrowserRig } from "../../server/testing/browser.ts";
import { createToken, facts } from "../../server/testing/fixtures.ts";
import { type TestServer, waitFor } from "../../server/testing/harness.ts";
import { HealthWatch, recordHealth } from "../../server/toolbox/health-watch.ts";
import { parseSensorsJson } from "../../agent/toolbox/health.ts";
import { ensureJournal } from "../../server/testing/journald.ts";

/**
 * The device page's toolbox tabs in Chromium against the real server and the real compiled agent:
 * find a sleep in the process list and kill it, see a tree, refresh only while the tab is open;
 * start and stop atd (a SysV init script); read errors written with logger; search a variable.
 */
let rig: BrowserRig;
let srv: TestServer;
let agent: EnrolledAgent;
let page: Page;
let stopJournal: (() => Promise<void>) | undefined;
const MARK = `mark-${crypto.randomUUID().slice(0, 8)}`;
const children: Subprocess[] = [];
const orphans: number[] = [];

beforeAll(async () => {
  process.env.SENTPULSE_TOOLBOX_MARK = MARK; // inherited by the agent the rig starts
  rig = await startBrowserRig("browser-toolbox");
  delete process.env.SENTPULSE_TOOLBOX_MARK;
  ({ srv, agent, page } = rig);
  stopJournal = await ensureJournal();
}, 120_000);
afterEach(() => rig?.checkPage());
afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  for (const pid of orphans) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  await rig?.stop();
  await stopJournal?.();
});

const tab = (name: string) => page.goto(`${srv.url}/devices/${agent.deviceId}?tab=${name}`);

describe("device toolbox in Chromium", () => {
  test("sign in and wait for the agent to be online", async () => {
    await rig.signIn();
    await waitFor(
      "online",
      async () => (await srv.sql`select status from devices where id = ${agent.deviceId}`)[0]?.status === "online",
      30_000,
    );
  });

  test("Processes: filter finds the test's sleep, Kill… with SIGKILL ends it and the row goes away", async () => {
    // filtered by the whole command line: a bare number also matched another process's pid (seen once)
    const seconds = String(5_100_000 + Math.floor(Math.random() * 800_000));
    const sleeper = Bun.spawn(["sleep", seconds]);
    children.push(sleeper);
    await tab("processes");
    await page.getByTestId("process-filter").fill(`sleep ${seconds}`);
    const row = page.locator(`[data-testid="process-row"][data-pid="${sleeper.pid}"]`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain(`sleep ${seconds}`);
    expect(await page.getByTestId("process-row").count()).toBe(1);
    await rig.shot("toolbox-processes");
    await row.getByTestId("process-kill").click();
    await page.getByTestId("kill-signal").selectOption("KILL");
    await page.getByTestId("kill-confirm").click();
    await page.getByText(`Sent SIGKILL to sleep (${sleeper.pid})`).waitFor();
    expect(await sleeper.exited).toBe(137);
    await row.waitFor({ state: "detached", timeout: 10_000 });
  });

  test("Processes: the tree shows a child under its parent; the list refreshes every 2 s only while the tab is open", async () => {
    const sh = Bun.spawn(["bash", "-c", "sleep 5252 & wait"], { stdout: "ignore", stderr: "ignore" });
    children.push(sh);
    // the sleep is the shell's child: killed with it at the end (by its own pid, read from /proc)
    const kid = await waitFor(
      "child",
      async () => Number(readFileSync(`/proc/${sh.pid}/task/${sh.pid}/children`, "utf8").trim()) || undefined,
    );
    orphans.push(kid);
    const asked: number[] = [];
    page.on("request", (r) => {
      if (r.url().endsWith(`/devices/${agent.deviceId}/processes`)) asked.push(Date.now());
    });
    await tab("processes");
    await page.getByText("Tree", { exact: true }).click();
    await page.getByTestId("process-filter").fill("5252");
    await waitFor("tree rows", async () => (await page.getByTestId("process-row").count()) >= 2, 15_000);
    // the shell's own ancestors (this test runner) are shown too, so the shell may be indented itself
    const cells = await page
      .locator('[data-testid="process-row"] .proc-name')
      .evaluateAll((els) =>
        els.map((e) => ({ text: e.textContent?.trim() ?? "", indent: Number.parseInt((e as HTMLElement).style.paddingLeft, 10) || 0 })),
      );
    const child = cells.findIndex((c) => c.text === "└ sleep");
    expect(child).toBeGreaterThan(0);
    expect(cells[child - 1]?.text).toEndWith("bash");
    expect(cells[child]?.indent).toBeGreaterThan(cells[child - 1]?.indent ?? 0);
    await rig.shot("toolbox-process-tree");
    const start = asked.length;
    await page.waitForTimeout(5000);
    expect(asked.length - start).toBeGreaterThanOrEqual(2);
    await page.getByTestId("device-tab-overview").click();
    await page.waitForTimeout(500);
    const left = asked.length;
    await page.waitForTimeout(4500);
    expect(asked.length).toBe(left);
  });

  test("Services: atd (an init script) starts and stops from its row", async () => {
    expect(Bun.spawnSync(["service", "atd", "stop"]).exitCode).toBe(0); // a known state to start from
    await tab("services");
    await page.getByTestId("service-filter").fill("atd");
    const row = page.locator('[data-testid="service-row"][data-name="atd"]');
    await row.waitFor({ timeout: 30_000 });
    expect(await row.textContent()).toContain("Deferred execution scheduler");
    await row.getByTestId("service-start").click();
    await page.locator(".toast").first().waitFor({ timeout: 30_000 });
    expect(await page.locator(".toast").first().textContent()).toContain("start done");
    await waitFor("running", async () => (await row.getByTestId("service-state").textContent()) === "running", 30_000);
    await rig.shot("toolbox-services");
    await row.getByTestId("service-stop").click();
    await waitFor("stopped", async () => (await row.getByTestId("service-state").textContent()) === "stopped", 30_000);
  });

  test("Event log: errors written with logger appear in red; shell characters in the search are refused before asking", async () => {
    for (const n of [1, 2])
      expect(await Bun.spawn(["logger", "-t", "billing", "-p", "user.err", `payment run ${MARK} failed #${n}`]).exited).toBe(0);
    await tab("events");
    await page.getByTestId("log-text").fill(MARK);
    await page.getByTestId("log-search").click();
    await waitFor("two events", async () => (await page.getByTestId("log-row").count()) === 2, 15_000);
    const rows = await page.getByTestId("log-row").allTextContents();
    expect(rows[0]).toContain(`payment run ${MARK} failed #2`);
    expect(rows[0]).toContain("billing");
    expect(await page.locator('[data-testid="log-row"] .sev-critical').first().textContent()).toBe("error");
    await rig.shot("toolbox-events");
    await page.getByTestId("log-text").fill("x; rm -rf /");
    expect(await page.getByTestId("log-search").isDisabled()).toBe(true);
    await page.getByText("no quotes or shell characters").waitFor();
  });

  test("Wake on an offline device with no neighbour in its subnet: the button is there and says why nothing was sent", async () => {
    const res = await fetch(`${srv.url}/api/agent/v1/enroll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        token: await createToken(srv),
        agentVersion: "1.0.0",
        facts: {
          ...facts("asleep"),
          nics: [{ name: "eth0", mac: "02:53:50:00:00:07", addresses: ["198.51.100.7"], cidrs: ["198.51.100.7/24"] }],
        },
        tags: [],
      }),
    });
    const { deviceId } = (await res.json()) as { deviceId: string };
    await page.goto(`${srv.url}/devices/${deviceId}`);
    rig.expectHttpError(409, `/api/v1/devices/${deviceId}/wake`);
    await page.getByTestId("device-wake").click();
    await page.getByText("No online device shares a subnet with this one").waitFor();
    await page.goto(`${srv.url}/devices/${agent.deviceId}`);
    await page.getByTestId("device-tab-processes").waitFor();
    expect(await page.getByTestId("device-wake").count()).toBe(0); // online: nothing to wake
  });

  test("Health: what the machine has (here: a virtio disk without S.M.A.R.T., no sensors) is said, not left blank", async () => {
    await tab("health");
    await page.getByTestId("health-notes").waitFor({ timeout: 60_000 });
    const notes = await page.getByTestId("health-notes").textContent();
    const scan = JSON.parse(Bun.spawnSync(["smartctl", "--scan-open", "--json"]).stdout.toString()) as { devices?: unknown[] };
    if ((scan.devices ?? []).length === 0) expect(notes).toContain("smartctl found no disk that reports S.M.A.R.T.");
    else expect(await page.getByTestId("health-disk").count()).toBe(scan.devices?.length ?? 0);
    // ClamAV without signatures (this machine): shown as missing definitions, in red
    expect(await page.getByTestId("health-av").textContent()).toContain("missing");
    await rig.shot("toolbox-health");
  });

  test("Health history: kept readings show per sensor with latest, min / max and a trend; another kind is a click away", async () => {
    // this VM has no sensor: two reads of the recorded sensors -j output (agent/test-data) stored as the health watch stores them
    const sensors = parseSensorsJson(
      readFileSync(`${import.meta.dir}/../../agent/test-data/linux/toolbox/sensors-j-amdgpu-it8603.txt`, "utf8"),
    );
    const read = (add: number) => ({
      sensors: sensors.map((x) => (x.kind === "temperature" ? { ...x, value: x.value + add } : x)),
      disks: [],
      batteries: [],
      antivirus: [],
      notes: [],
    });
    await recordHealth(srv.sql, agent.deviceId, Date.now() - 30 * 60_000, read(0));
    await recordHealth(srv.sql, agent.deviceId, Date.now() - 15 * 60_000, read(5));
    await tab("health");
    const row = page.getByTestId("health-history-row").filter({ hasText: "Asus A68HM-K Mobo" });
    await row.waitFor({ timeout: 60_000 });
    expect((await row.textContent())?.replace(/\s+/g, " ")).toContain("50 °C45 / 50");
    expect(await page.getByTestId("health-history-row").count()).toBe(3);
    await row.scrollIntoViewIfNeeded();
    await rig.shot("toolbox-health-history");
    await page.getByText("Fans", { exact: true }).click();
    await page.getByTestId("health-history-row").filter({ hasText: "CPU Fan" }).waitFor();
    await page.getByText("Reallocated sectors", { exact: true }).click();
    await page.getByTestId("health-history-empty").waitFor();
  });

  test("Environment: searching finds the agent's variable by name and by value", async () => {
    await tab("environment");
    await page.getByTestId("env-search").fill("toolbox_mark");
    await waitFor("one row", async () => (await page.getByTestId("env-row").count()) === 1, 15_000);
    expect(await page.getByTestId("env-row").textContent()).toContain(MARK);
    await page.getByTestId("env-search").fill(MARK);
    expect(await page.getByTestId("env-row").count()).toBe(1);
    await rig.shot("toolbox-environment");
  });

  test("Alert rule editor: 'Service not running' for atd (a bad name refused before asking); atd stopped → the alert shows on the device", async () => {
    await page.goto(`${srv.url}/automation?tab=rules`);
    await page.locator("#r-name").fill("atd down");
    await page.locator("#r-metric").selectOption("service_state");
    expect(await page.locator("#r-threshold").isHidden()).toBe(true); // a state: no operator or threshold
    await page.locator("#r-service").fill("atd; reboot");
    await page.getByTestId("rule-save").click();
    await page.getByText("Name the service").waitFor();
    expect((await srv.sql`select count(*)::int as n from alert_rules where metric = 'service_state'`)[0]?.n).toBe(0);
    await page.locator("#r-service").fill("atd");
    await page.locator("#r-duration").fill("0");
    await page.getByTestId("rule-save").click();
    const row = page.getByTestId("rule-row").filter({ hasText: "atd down" });
    await row.waitFor();
    expect(await row.textContent()).toContain("service atd not running");
    await rig.shot("toolbox-rule-service");

    const stop = await srv.api(`/api/v1/devices/${agent.deviceId}/services/atd/stop`, { method: "POST", body: {} });
    expect(stop.status).toBe(200);
    try {
      // the pass services.ts runs every minute, run here at once
      await new HealthWatch(srv.sql, srv.server.services.agents, (h) => srv.server.services.rules.submitHealth(h)).tick();
      await srv.server.services.rules.idle();
      await page.goto(`${srv.url}/devices/${agent.deviceId}`);
      const alert = page.getByText("atd is stopped").first();
      await alert.waitFor({ timeout: 15_000 });
      await alert.scrollIntoViewIfNeeded();
      await rig.shot("toolbox-rule-service-alert");
    } finally {
      await srv.api(`/api/v1/devices/${agent.deviceId}/services/atd/start`, { method: "POST", body: {} });
    }
  }, 120_000);
});
