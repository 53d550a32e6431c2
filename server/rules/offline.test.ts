import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sendBeacon } from "../../agent/transport/beacon.ts";
import { facts, rawToken, sample } from "../testing/fixtures.ts";
import { startTestServer, type TestServer, waitFor } from "../testing/harness.ts";

/** Offline rules: driven by the status engine's changes, with a duration swept from memory. */
let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({ onlineWindowS: 1, offlineAfterS: 2 });
}, 120_000);
afterAll(() => srv.stop());

async function device(tag: string) {
  const [site] = await srv.sql<{ id: string; org: string }[]>`select id, organization_id as org from sites order by created_at limit 1`;
  const token = await rawToken(srv.sql, site!.org, site!.id);
  const res = await fetch(`${srv.url}/api/agent/v1/enroll`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token, agentVersion: "1", facts: facts(), tags: [tag] }),
  });
  return (await res.json()) as { deviceId: string; secret: string };
}
let seq = 0;
const beacon = (d: { deviceId: string; secret: string }) =>
  sendBeacon(srv.url, d.deviceId, d.secret, "1", [{ seq: ++seq, samples: [sample(new Date())] }]);
const ruleAlerts = (deviceId: string, type: string) =>
  srv.sql<{ state: string; message: string }[]>`select state, message from alerts where device_id = ${deviceId} and type = ${type}`;

describe("offline rules", () => {
  test("a device gone silent fires the offline rule; its next contact resolves it", async () => {
    const res = await srv.api("/api/v1/alert-rules", {
      body: {
        name: "Server down",
        metric: "offline",
        operator: "<",
        threshold: 99,
        severity: "critical",
        scope: { type: "tag", tag: "role=server" },
      },
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ operator: ">", threshold: 0 }); // fixed for offline rules
    const d = await device("role=server");
    await beacon(d);
    const fired = await waitFor("offline rule fires", async () => (await ruleAlerts(d.deviceId, "server_down"))[0], 20_000);
    expect(fired).toMatchObject({ state: "firing" });
    expect(fired.message).toContain("offline");
    await beacon(d);
    await waitFor("resolved on contact", async () => (await ruleAlerts(d.deviceId, "server_down"))[0]?.state === "resolved", 20_000);
  });

  test("with a duration the rule waits in pending, then fires from the sweep; out of scope nothing fires", async () => {
    await srv.api("/api/v1/alert-rules", {
      body: {
        name: "Laptop away",
        metric: "offline",
        operator: ">",
        threshold: 0,
        durationSeconds: 6,
        severity: "info",
        scope: { type: "tag", tag: "role=laptop" },
      },
    });
    const d = await device("role=laptop");
    const other = await device("role=kiosk");
    await beacon(d);
    await beacon(other);
    await waitFor(
      "offline",
      async () => (await srv.sql`select 1 from devices where id = ${d.deviceId} and status = 'offline'`).length === 1,
      20_000,
    );
    await srv.server.services.rules.idle();
    await srv.server.services.bus.settled();
    expect((await ruleAlerts(d.deviceId, "laptop_away")).length).toBe(0); // pending: 6 s not yet up
    const [st] = await srv.sql`select state from alert_rule_states where device_id = ${d.deviceId}`;
    expect(st?.state).toBe("pending");
    await waitFor("fired after the duration", async () => (await ruleAlerts(d.deviceId, "laptop_away")).length === 1, 30_000);
    expect((await srv.sql`select 1 from alerts where device_id = ${other.deviceId} and rule_id is not null`).length).toBe(0);
  });
});
