/**
 * The endpoint toolbox's cost, with the real compiled agent enrolled against a local server:
 *  1. idle: the agent nobody inspects, next to a baseline agent binary (`--baseline`, e.g. one built
 *     before the toolbox existed), both sampled from /proc once a second;
 *  2. watched: a technician's Processes tab, i.e. GET /processes every 2 s: round trip of each list
 *     (request → JSON in hand) and the agent's CPU and RSS meanwhile;
 *  3. idle again after the tab closed: what the agent keeps once the toolbox was loaded;
 *  4. with `--browser`: click on the Processes tab → first row of the table in headless Chromium, 5 times;
 *  5. with `--health-rules S`: a service_state rule (atd) and an antivirus rule on the device for S seconds,
 *     so the server's health watch asks the agent for its services every minute (and its health and
 *     antivirus on the first pass): the agent's CPU and RSS meanwhile.
 *
 *   bun scripts/bench-toolbox.ts --duration 60 [--baseline /tmp/agent-before] [--browser] [--health-rules 300]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { BENCH_ADMIN, startBenchServer } from "./lib/bench-server.ts";
import { sampler } from "./lib/proc.ts";

const { values: opt } = parseArgs({
  options: {
    duration: { type: "string", default: "60" },
    warmup: { type: "string", default: "15" },
    baseline: { type: "string" },
    browser: { type: "boolean", default: false },
    "health-rules": { type: "string" },
    "no-build": { type: "boolean", default: false },
  },
});
const seconds = Number(opt.duration);
const AGENT = "dist/agent/sentpulse-agent-linux-x64";
if (!opt["no-build"]) {
  const p = Bun.spawnSync(["scripts/build-agents", "linux-x64"], { stdout: "ignore", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(p.stderr.toString());
}

const dir = mkdtempSync(join(tmpdir(), "sentpulse-toolboxbench-"));
const server = await startBenchServer({ SENTPULSE_TELEMETRY_INTERVAL_S: "30" });
const children: Bun.Subprocess[] = [];
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] ?? 0;
const ms = (x: number) => Number(x.toFixed(1));

async function enrollAndRun(binary: string, name: string): Promise<{ proc: Bun.Subprocess; deviceId: string }> {
  const { base, cookie } = server;
  const res = await fetch(`${base}/api/v1/enrollment-tokens`, {
    method: "POST",
    headers: { cookie, "content-type": "application/json" },
    body: "{}",
  });
  const { token } = (await res.json()) as { token: string };
  const config = join(dir, name, "agent.json");
  const enroll = Bun.spawn([binary, "enroll", "--server", base, "--token", token, "--config", config], {
    stdout: "ignore",
    stderr: "inherit",
  });
  if ((await enroll.exited) !== 0) throw new Error(`enroll ${name} failed`);
  const { deviceId } = (await Bun.file(config).json()) as { deviceId: string };
  const proc = Bun.spawn([binary, "run", "--config", config], { stdout: "ignore", stderr: "ignore" });
  children.push(proc);
  return { proc, deviceId };
}

try {
  const { base, cookie } = server;
  const agent = await enrollAndRun(AGENT, "current");
  const baseline = opt.baseline ? await enrollAndRun(opt.baseline, "baseline") : undefined;
  await Bun.sleep(Number(opt.warmup) * 1000);

  // 1. nobody watches
  const idle = sampler(() => [agent.proc.pid]);
  const idleBase = baseline ? sampler(() => [baseline.proc.pid]) : undefined;
  await Bun.sleep(seconds * 1000);
  const idleResult = { agent: idle.stop(), baseline: idleBase?.stop() };

  // 2. a technician watches the process list (the dashboard asks 2 s after each answer)
  const watched = sampler(() => [agent.proc.pid]);
  const trips: number[] = [];
  let processes = 0;
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    const t0 = performance.now();
    const res = await fetch(`${base}/api/v1/devices/${agent.deviceId}/processes`, { headers: { cookie } });
    const body = (await res.json()) as { items: unknown[] };
    trips.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`processes: ${res.status} ${JSON.stringify(body)}`);
    processes = body.items.length;
    await Bun.sleep(2000);
  }
  const watchedResult = watched.stop();

  // 3. the tab closed
  await Bun.sleep(20_000); // the previous list is forgotten after 15 s
  const after = sampler(() => [agent.proc.pid]);
  await Bun.sleep(seconds * 1000);
  const afterResult = after.stop();

  // 4. click → table in Chromium
  let clickToTable: number[] | undefined;
  if (opt.browser) {
    const browser = await chromium.launch({
      executablePath: process.env.SENTPULSE_CHROMIUM ?? "/usr/bin/chromium",
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await page.goto(`${base}/devices`);
    await page.getByTestId("login-email").fill(BENCH_ADMIN.SENTPULSE_ADMIN_EMAIL);
    await page.getByTestId("login-password").fill(BENCH_ADMIN.SENTPULSE_ADMIN_PASSWORD);
    await page.getByTestId("login-submit").click();
    await page.waitForURL((u) => u.pathname === "/devices");
    clickToTable = [];
    for (let i = 0; i < 5; i++) {
      await page.goto(`${base}/devices/${agent.deviceId}`);
      await page.getByTestId("device-tab-processes").waitFor();
      await Bun.sleep(16_000); // the agent's previous list is forgotten: each click is a first list
      const t0 = performance.now();
      await page.getByTestId("device-tab-processes").click();
      await page
        .getByTestId("process-row")
        .first()
        .waitFor()
        .catch(async (err) => {
          await page.screenshot({ path: join(tmpdir(), "bench-toolbox-failed.png") });
          throw err;
        });
      clickToTable.push(ms(performance.now() - t0));
    }
    await browser.close();
  }

  // 5. health rules watching: the server's health watch asks every minute
  let healthRules: ReturnType<ReturnType<typeof sampler>["stop"]> | undefined;
  if (opt["health-rules"]) {
    for (const body of [
      { name: "atd down", metric: "service_state", service: "atd" },
      { name: "AV off", metric: "antivirus_disabled" },
    ]) {
      const res = await fetch(`${base}/api/v1/alert-rules`, {
        method: "POST",
        headers: { cookie, "content-type": "application/json" },
        body: JSON.stringify({ ...body, operator: ">", threshold: 0, severity: "warning", scope: { type: "device", id: agent.deviceId } }),
      });
      if (res.status !== 201) throw new Error(`rule: ${res.status} ${await res.text()}`);
    }
    const watchedByRules = sampler(() => [agent.proc.pid]);
    await Bun.sleep(Number(opt["health-rules"]) * 1000);
    healthRules = watchedByRules.stop();
  }

  console.log(
    JSON.stringify(
      {
        durationS: seconds,
        idle: idleResult,
        watched: {
          ...watchedResult,
          lists: trips.length,
          processes,
          roundTripMs: {
            p50: ms(percentile(trips, 50)),
            p95: ms(percentile(trips, 95)),
            max: ms(Math.max(...trips)),
            first: ms(trips[0] ?? 0),
          },
        },
        idleAfterWatching: afterResult,
        clickToTableMs: clickToTable,
        healthRulesWatching: healthRules,
        loadavg: (await Bun.file("/proc/loadavg").text()).trim(),
      },
      null,
      2,
    ),
  );
} finally {
  for (const c of children) c.kill("SIGTERM");
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
