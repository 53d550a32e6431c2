import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { availableParallelism } from "node:os";
import type { Subprocess } from "bun";
import { enrollRealAgent, type EnrolledAgent } from "../testing/agents.ts";
import { startTestServer, type TestServer, waitFor } from "../testing/harness.ts";

/**
 * The tenancy acceptance with the real compiled agent: a smart group `os = "linux" and tag.role =
 * "server" and cpu > 80` takes the agent's device in within one telemetry interval of its CPU
 * crossing 80 (busy loops on every core push it there) and lets it go after; a policy attached to
 * the group gives the device its alert rule at once, and blocking inheritance on its site removes it.
 */
const INTERVAL_S = 1;
let srv: TestServer;
let agent: EnrolledAgent;
let burners: Subprocess[] = [];

beforeAll(async () => {
  srv = await startTestServer({ telemetryIntervalS: INTERVAL_S, beaconIntervalS: 5, onlineWindowS: 4, offlineAfterS: 30 });
  agent = await enrollRealAgent(srv, ["role=server"]);
}, 120_000);
afterAll(async () => {
  for (const b of burners) b.kill("SIGKILL");
  await agent?.stop();
  await srv?.stop();
});

const post = async (path: string, body: unknown) => {
  const res = await srv.api(path, { body });
  expect([path, res.status]).toEqual([path, 201]);
  await srv.server.services.bus.settled();
  return ((await res.json()) as { id: string }).id;
};
const membership = async (groupId: string, deviceId: string) =>
  (await srv.sql<{ since: Date }[]>`select since from device_group_members where group_id = ${groupId} and device_id = ${deviceId}`)[0];
/** The first stored sample above (or at most) a CPU figure after a time. */
const firstSample = async (deviceId: string, after: Date, above: boolean) =>
  (
    await srv.sql<{ time: Date; cpu: number }[]>`
      select time, cpu_percent as cpu from device_telemetry
      where device_id = ${deviceId} and time > ${after} and (${above} and cpu_percent > 80 or not ${above} and cpu_percent <= 80)
      order by time limit 1`
  )[0];
const effective = async (deviceId: string) =>
  (await (await srv.api(`/api/v1/devices/${deviceId}/policies`)).json()) as {
    policies: { policyName: string; applied: boolean; blockedBy: { type: string } | null }[];
    rules: { rule: { name: string }; source: { kind: string; name: string } }[];
  };
const alertStates = async (deviceId: string) =>
  (
    await srv.sql<
      { state: string }[]
    >`select state from alerts where device_id = ${deviceId} and type = 'server_cpu_hot' order by created_at`
  ).map((a) => a.state);

describe("a smart group and its policy, with the real agent", () => {
  test("joins within one telemetry interval of CPU crossing 80, gets the policy's rule at once, loses it to a site block, leaves when CPU falls", async () => {
    agent.start();
    const deviceId = agent.deviceId;
    const [{ siteId }] = (await srv.sql`select site_id as "siteId" from devices where id = ${deviceId}`) as unknown as [{ siteId: string }];
    const groupId = await post("/api/v1/groups", {
      name: "Hot Linux servers",
      expression: 'os = "linux" and tag.role = "server" and cpu > 80',
    });
    const policyId = await post("/api/v1/policies", { name: "Hot server response" });
    await post("/api/v1/alert-rules", {
      name: "Server CPU hot",
      metric: "cpu_percent",
      operator: ">",
      threshold: 80,
      durationSeconds: 0,
      severity: "critical",
      cooldownSeconds: 0,
      scope: { type: "policy", id: policyId },
    });
    await post(`/api/v1/policies/${policyId}/assignments`, { target: { type: "group", id: groupId } });

    // a calm start: a sample at or under 80 with the device outside the group
    const start = new Date(Date.now() - 1000);
    await waitFor("a calm sample", async () => Boolean(await firstSample(deviceId, start, false)), 90_000);
    await waitFor("outside the group", async () => !(await membership(groupId, deviceId)), 30_000);
    expect((await effective(deviceId)).rules.map((r) => r.rule.name)).not.toContain("Server CPU hot");

    // every core busy: CPU crosses 80
    const burnStart = new Date();
    burners = Array.from({ length: availableParallelism() }, () => Bun.spawn(["sh", "-c", "while :; do :; done"]));
    await waitFor("a sample over 80", async () => Boolean(await firstSample(deviceId, burnStart, true)), 30_000);
    const crossing = (await firstSample(deviceId, burnStart, true))!;
    await waitFor("joined", async () => Boolean(await membership(groupId, deviceId)), 10_000);
    const joined = (await membership(groupId, deviceId))!;
    expect(joined.since.getTime() - crossing.time.getTime()).toBeLessThanOrEqual(INTERVAL_S * 1000);

    // the policy attached to the group applies at once: its rule is the device's, and it fires
    const view = await effective(deviceId);
    expect(view.policies.map((p) => [p.policyName, p.applied])).toEqual([["Hot server response", true]]);
    expect(view.rules.filter((r) => r.rule.name === "Server CPU hot").map((r) => r.source)).toEqual([
      expect.objectContaining({ kind: "policy", name: "Hot server response" }),
    ]);
    await waitFor("the policy's alert firing", async () => (await alertStates(deviceId)).includes("firing"), 15_000);

    // block inheritance on the device's site: the rule is no longer the device's, and its alert clears
    await post("/api/v1/policy-blocks", { target: { type: "site", id: siteId } });
    const blocked = await effective(deviceId);
    expect(blocked.policies.map((p) => [p.applied, p.blockedBy?.type])).toEqual([[false, "site"]]);
    expect(blocked.rules.map((r) => r.rule.name)).not.toContain("Server CPU hot");
    await waitFor("the alert resolved", async () => (await alertStates(deviceId)).at(-1) === "resolved", 15_000);
    expect(await alertStates(deviceId)).toEqual(["resolved"]); // it did not fire again under the block

    // calm again: the device leaves the group
    for (const b of burners) b.kill("SIGKILL");
    burners = [];
    await waitFor("left", async () => !(await membership(groupId, deviceId)), 60_000);
    const history = await srv.sql<{ event: string }[]>`
      select event from device_group_history where group_id = ${groupId} and device_id = ${deviceId} order by id`;
    expect(history.map((h) => h.event).slice(-2)).toEqual(["joined", "left"]);
  }, 240_000);
});
