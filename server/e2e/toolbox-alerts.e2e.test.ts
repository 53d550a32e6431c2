import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { enrollRealAgent, type EnrolledAgent } from "../testing/agents.ts";
import { startTestServer, type TestServer, waitFor } from "../testing/harness.ts";
import { HealthWatch } from "../toolbox/health-watch.ts";

/**
 * Health alert rules fed by the endpoint toolbox, with the real compiled agent on this machine: a
 * service_state rule on the real init.d `atd` (Debian's `at`) fires when the service is stopped and
 * resolves when it runs again; antivirus rules fire on Debian's ClamAV as `.ci/run` installs it
 * (clamd not running, no signature database: freshclam cannot reach the network here), read on
 * demand by the Health route. The health watch is the one services.ts runs every minute; the test
 * runs its passes itself instead of waiting for the timer.
 */
let srv: TestServer;
let agent: EnrolledAgent;
let watch: HealthWatch;
const base = () => `/api/v1/devices/${agent.deviceId}`;
const rules = () => srv.server.services.rules;

type Alert = { id: string; message: string; resolvedAt: Date | null; type: string };
const alerts = (type: string) =>
  srv.sql<Alert[]>`
    select id, message, resolved_at as "resolvedAt", type from alerts where device_id = ${agent.deviceId} and type = ${type} order by created_at`;
const service = async (action: string) => {
  const res = await srv.api(`${base()}/services/atd/${action}`, { method: "POST", body: {} });
  expect(res.status).toBe(200);
};
const pass = async () => {
  const r = await watch.tick();
  await rules().idle();
  return r;
};
const rule = async (body: Record<string, unknown>) => {
  const res = await srv.api("/api/v1/alert-rules", {
    body: { severity: "critical", operator: ">", threshold: 0, scope: { type: "device", id: agent.deviceId }, ...body },
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; operator: string; threshold: number; service: string | null };
};

beforeAll(async () => {
  srv = await startTestServer({ telemetryIntervalS: 2 });
  agent = await enrollRealAgent(srv);
  agent.start();
  await waitFor(
    "online",
    async () => (await srv.sql`select status from devices where id = ${agent.deviceId}`)[0]?.status === "online",
    30_000,
  );
  watch = new HealthWatch(srv.sql, srv.server.services.agents, (h) => rules().submitHealth(h));
}, 120_000);
afterAll(async () => {
  await srv?.api(`${base()}/services/atd/start`, { method: "POST", body: {} });
  await agent?.stop();
  await srv?.stop();
});

describe("service_state rule on the real atd", () => {
  test("no rule: the watch asks nothing", async () => {
    expect(await pass()).toEqual({ asked: 0, failed: 0 });
  });

  test("a rule whose scope does not cover the device: nothing is asked of it", async () => {
    const r = await rule({ name: "AV off elsewhere", metric: "antivirus_disabled", scope: { type: "tag", tag: "no-such-tag" } });
    expect(await pass()).toEqual({ asked: 0, failed: 0 });
    expect((await srv.api(`/api/v1/alert-rules/${r.id}`, { method: "DELETE" })).status).toBe(200);
  });

  test("atd stopped → the rule fires naming the service and its state; started again → resolved", async () => {
    await service("start");
    const r = await rule({ name: "atd down", metric: "service_state", service: "atd", operator: "<", threshold: 5, cooldownSeconds: 0 });
    // a flag: compared as "> 0" whatever the body said
    expect(r).toMatchObject({ service: "atd", operator: ">", threshold: 0 });

    expect(await pass()).toEqual({ asked: 1, failed: 0 });
    expect((await alerts("atd_down")).length).toBe(0);

    await service("stop");
    await pass();
    const [fired] = await alerts("atd_down");
    expect(fired?.message).toContain("atd is stopped");
    expect(fired?.resolvedAt).toBeNull();

    await service("start");
    await pass();
    const [after] = await alerts("atd_down");
    expect(after?.id).toBe(fired?.id as string);
    expect(after?.resolvedAt).not.toBeNull();
  }, 120_000);

  test("rule + workflow, no script: atd stops → the rule fires → the workflow restarts atd on the device → the rule resolves", async () => {
    const wf = await srv.api("/api/v1/workflows", {
      body: {
        name: "restart atd",
        trigger: { event: "alert.firing", alertType: "atd_down" },
        actions: [{ type: "restart_service", service: "atd" }],
      },
    });
    expect(wf.status).toBe(201);
    await service("stop");
    await pass();
    const firing = (await alerts("atd_down")).at(-1);
    expect(firing?.resolvedAt).toBeNull();
    // the workflow queued the restart as a command; the real agent runs it (service(8): systemd is not PID 1 here)
    const cmd = await waitFor(
      "restart command finished",
      async () => {
        const [c] = await srv.sql<{ status: string; stdout: string | null; stderr: string | null; exit_code: number | null }[]>`
          select status, stdout, stderr, exit_code from commands where device_id = ${agent.deviceId} order by created_at desc limit 1`;
        return c && ["succeeded", "failed", "timed_out"].includes(c.status) ? c : undefined;
      },
      60_000,
    );
    expect(cmd).toMatchObject({ status: "succeeded" }); // a failure shows the command's output
    await pass();
    const after = (await alerts("atd_down")).at(-1);
    expect(after?.id).toBe(firing?.id as string);
    expect(after?.resolvedAt).not.toBeNull();
    const [w] = await srv.sql<{ id: string }[]>`select id from workflows where name = 'restart atd'`;
    expect((await srv.api(`/api/v1/workflows/${w?.id}`, { method: "DELETE" })).status).toBe(200);
  }, 120_000);

  test("a service the device does not have neither fires nor fails", async () => {
    await rule({ name: "spooler down", metric: "service_state", service: "Spooler" });
    expect((await pass()).failed).toBe(0);
    expect((await alerts("spooler_down")).length).toBe(0);
  }, 60_000);
});

describe("antivirus rules on the real ClamAV (installed without signatures, clamd not running)", () => {
  test("read on demand by the Health tab: protection off and definitions missing both fire", async () => {
    await rule({ name: "AV off", metric: "antivirus_disabled" });
    await rule({ name: "AV stale", metric: "antivirus_definitions_age_days", operator: ">", threshold: 3 });
    await rule({ name: "Too hot", metric: "temperature_c", operator: ">", threshold: 80 });
    const res = await srv.api(`${base()}/health`);
    expect(res.status).toBe(200);
    const report = (await res.json()) as { antivirus: { product: string; enabled: boolean }[]; sensors: unknown[] };
    expect(report.antivirus[0]).toMatchObject({ product: expect.stringMatching(/^ClamAV /), enabled: false });
    await rules().idle();
    const [off] = await alerts("av_off");
    expect(off?.message).toMatch(/AV off on .+: protection off: ClamAV /);
    const [stale] = await alerts("av_stale");
    expect(stale?.message).toContain("no dated definitions (missing)");
    // this VM has no temperature sensor and no S.M.A.R.T. disk: nothing to compare, nothing fires
    expect(report.sensors).toEqual([]);
    expect((await alerts("too_hot")).length).toBe(0);
  }, 120_000);

  test("the slow cadence: health is read on the first pass, not again within 15 minutes", async () => {
    const asks: string[] = [];
    const counting = new HealthWatch(srv.sql, srv.server.services.agents, (h) => {
      asks.push(h.health ? "health" : "services");
    });
    await counting.tick(1_000_000);
    await counting.tick(1_000_000 + 60_000);
    await counting.tick(1_000_000 + 15 * 60_000);
    expect(asks).toEqual(["health", "services", "health"]);
  }, 180_000);
});

describe("bad health rules → 422 naming the problem, nothing stored", () => {
  test("service missing, on the wrong metric, or not a service name", async () => {
    const before = (await srv.sql`select count(*)::int as n from alert_rules`)[0]?.n;
    const cases: Record<string, unknown>[] = [
      { name: "x", metric: "service_state" },
      { name: "x", metric: "cpu_percent", service: "atd" },
      { name: "x", metric: "service_state", service: "atd; reboot" },
      { name: "x", metric: "service_state", service: "$(reboot)" },
      { name: "x", metric: "smart_magic" },
    ];
    for (const body of cases) {
      const res = await srv.api("/api/v1/alert-rules", { body: { severity: "warning", operator: ">", threshold: 0, ...body } });
      expect(res.status).toBe(422);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("VALIDATION_FAILED");
    }
    expect((await srv.sql`select count(*)::int as n from alert_rules`)[0]?.n).toBe(before);
  });
});
