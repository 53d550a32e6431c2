import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { enrollRealAgent, type EnrolledAgent } from "../testing/agents.ts";
import { otherOrganization, script } from "../testing/fixtures.ts";
import { startTestServer, type TestServer, waitFor } from "../testing/harness.ts";

/**
 * Script checks with the real agent: a `script_exit_code` rule's script runs on the device every
 * interval; a non-zero exit fires the rule's alert (its output in the message), zero resolves it.
 */
let srv: TestServer;
let agent: EnrolledAgent;
const FLAG = join(tmpdir(), `sentpulse-check-${crypto.randomUUID()}`);
const CHECK = `if [ -f '${FLAG}' ]; then echo "spooler is stopped"; exit 2; fi\necho "spooler is running"`;

beforeAll(async () => {
  srv = await startTestServer({ telemetryIntervalS: 2, schedulerIntervalMs: 250 });
  agent = await enrollRealAgent(srv, ["env=checks"]);
  agent.start();
  await waitFor(
    "agent online",
    async () => (await srv.sql`select 1 from devices where id = ${agent.deviceId} and status = 'online'`).length === 1,
    30_000,
  );
}, 120_000);
afterAll(async () => {
  rmSync(FLAG, { force: true });
  await agent?.stop();
  await srv?.stop();
});

type Alert = { id: string; state: string; message: string; type: string };
const ruleAlerts = (ruleId: string) =>
  srv.sql<
    Alert[]
  >`select id, state, message, type from alerts where rule_id = ${ruleId} and device_id = ${agent.deviceId} order by created_at`;
const checkRuns = async (ruleId: string) =>
  (
    await srv.sql<
      { n: number }[]
    >`select count(*)::int as n from commands where check_rule_id = ${ruleId} and status in ('succeeded', 'failed')`
  )[0]?.n ?? 0;

describe("script checks", () => {
  let ruleId: string;

  test("a check that exits non-zero fires the rule's alert with its output; exit 0 resolves it", async () => {
    const res = await srv.api("/api/v1/alert-rules", {
      body: {
        name: "Spooler down",
        metric: "script_exit_code",
        operator: ">",
        threshold: 0,
        severity: "critical",
        cooldownSeconds: 0,
        scope: { type: "tag", tag: "env=checks" },
        check: { language: "sh", content: CHECK, intervalSeconds: 10 },
      },
    });
    expect(res.status).toBe(201);
    const rule = (await res.json()) as { id: string; check: { intervalSeconds: number; spec: { timeoutSeconds: number } } };
    ruleId = rule.id;
    expect(rule.check.intervalSeconds).toBe(10);
    expect(rule.check.spec.timeoutSeconds).toBe(10); // kept within the interval

    await waitFor("a passing check run", async () => (await checkRuns(ruleId)) >= 1, 30_000);
    expect((await ruleAlerts(ruleId)).length).toBe(0);
    const [actor] = await srv.sql<{ type: string; id: string; name: string }[]>`
      select actor_type as type, actor_id as id, actor_name as name from commands where check_rule_id = ${ruleId} limit 1`;
    expect(actor).toEqual({ type: "rule", id: ruleId, name: "Spooler down" });

    writeFileSync(FLAG, "");
    const firing = await waitFor("alert firing", async () => (await ruleAlerts(ruleId))[0], 40_000);
    expect(firing).toMatchObject({ state: "firing", type: "spooler_down" });
    expect(firing?.message).toContain("exit code 2");
    expect(firing?.message).toContain("spooler is stopped");

    rmSync(FLAG);
    await waitFor("alert resolved", async () => (await ruleAlerts(ruleId))[0]?.state === "resolved", 40_000);
    expect(existsSync(FLAG)).toBe(false);
    expect((await ruleAlerts(ruleId)).length).toBe(1);
  }, 120_000);

  test("check runs stay out of the device's command history", async () => {
    const r = (await (await srv.api(`/api/v1/devices/${agent.deviceId}/commands`)).json()) as { items: unknown[]; total: number };
    expect(r.total).toBe(0);
    expect(await checkRuns(ruleId)).toBeGreaterThanOrEqual(3);
  });

  test("a library script's edits reach the check", async () => {
    const script = await srv.api("/api/v1/scripts", {
      body: { name: "marker", language: "sh", content: "echo version-1", timeoutSeconds: 30 },
    });
    const { id: scriptId } = (await script.json()) as { id: string };
    const rule = await srv.api("/api/v1/alert-rules", {
      body: {
        name: "Library check",
        metric: "script_exit_code",
        operator: ">",
        threshold: 0,
        severity: "warning",
        scope: { type: "device", id: agent.deviceId },
        check: { scriptId, intervalSeconds: 10 },
      },
    });
    expect(rule.status).toBe(201);
    const { id } = (await rule.json()) as { id: string };
    const outputs = () => srv.sql<{ stdout: string }[]>`select stdout from commands where check_rule_id = ${id} and status = 'succeeded'`;
    await waitFor("first run", async () => (await outputs()).some((o) => o.stdout.includes("version-1")), 30_000);
    const put = await srv.api(`/api/v1/scripts/${scriptId}`, {
      method: "PUT",
      body: { name: "marker", language: "sh", content: "echo version-2", timeoutSeconds: 30 },
    });
    expect(put.status).toBe(200);
    await waitFor("edited run", async () => (await outputs()).some((o) => o.stdout.includes("version-2")), 30_000);
    await srv.api(`/api/v1/alert-rules/${id}`, { method: "DELETE" });
    // the rule's runs go with it
    expect((await outputs()).length).toBe(0);
  }, 90_000);

  test("bad check rules are 422; another organization's script is 404", async () => {
    const base = { name: "x", metric: "script_exit_code", operator: ">", threshold: 0, severity: "warning" };
    const post = (body: unknown) => srv.api("/api/v1/alert-rules", { body });
    expect((await post(base)).status).toBe(422); // no check
    expect((await post({ ...base, check: { intervalSeconds: 60 } })).status).toBe(422); // no script
    expect((await post({ ...base, check: { language: "sh", content: "true", intervalSeconds: 5 } })).status).toBe(422);
    expect((await post({ ...base, check: { language: "cobol", content: "x", intervalSeconds: 60 } })).status).toBe(422);
    expect((await post({ ...base, metric: "cpu_percent", check: { language: "sh", content: "true", intervalSeconds: 60 } })).status).toBe(
      422,
    );
    const other = await otherOrganization(srv.sql);
    const foreign = await script(srv.sql, other.organizationId, "theirs");
    expect((await post({ ...base, check: { scriptId: foreign, intervalSeconds: 60 } })).status).toBe(404);
  });
});
