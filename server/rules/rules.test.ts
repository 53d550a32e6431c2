import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sendBeacon } from "../../agent/transport/beacon.ts";
import { facts, otherOrganization, rawToken, sample } from "../testing/fixtures.ts";
import { saveStates } from "./store.ts";
import { login, startTestServer, type TestServer, waitFor } from "../testing/harness.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
}, 120_000);
afterAll(() => srv.stop());

async function device(tags: string[]): Promise<{ deviceId: string; secret: string }> {
  const [site] = await srv.sql<{ id: string; org: string }[]>`select id, organization_id as org from sites order by created_at limit 1`;
  const token = await rawToken(srv.sql, site!.org, site!.id);
  const res = await fetch(`${srv.url}/api/agent/v1/enroll`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token, agentVersion: "1", facts: facts(), tags }),
  });
  return (await res.json()) as { deviceId: string; secret: string };
}

/** Sends samples (cpu %, seconds before now) through the real beacon path, one batch each. */
let seq = 0;
async function cpu(d: { deviceId: string; secret: string }, points: [number, number][]) {
  const batches = points.map(([value, ago]) => ({ seq: ++seq, samples: [sample(new Date(Date.now() - ago * 1000), value)] }));
  await sendBeacon(srv.url, d.deviceId, d.secret, "1", batches);
  await srv.server.services.rules.idle();
  await srv.server.services.bus.settled(); // the notifications of what it decided
}
type AlertSummary = { type: string; state: string; severity: string };
const alertsOf = async (deviceId: string): Promise<AlertSummary[]> => [
  ...(await srv.sql<AlertSummary[]>`select type, state, severity from alerts where device_id = ${deviceId} order by created_at`),
];

describe("threshold rules through the ingestion path", () => {
  test("the seed's default rules exist for a new organization", async () => {
    const rules = (await (await srv.api("/api/v1/alert-rules")).json()) as { items: { name: string; metric: string; threshold: number }[] };
    expect(rules.items.map((r) => r.name).sort()).toEqual(["CPU high", "Disk critical", "Disk low", "Memory high"]);
  });

  test("CPU above the threshold for the duration fires once; back under resolves; the cooldown stops a repeat", async () => {
    const res = await srv.api("/api/v1/alert-rules", {
      body: {
        name: "CPU hot",
        metric: "cpu_percent",
        operator: ">",
        threshold: 90,
        durationSeconds: 2,
        severity: "critical",
        cooldownSeconds: 3600,
        scope: { type: "tag", tag: "env=rules" },
      },
    });
    expect(res.status).toBe(201);
    const d = await device(["env=rules"]);
    await cpu(d, [
      [95, 60],
      [96, 59],
    ]);
    expect(await alertsOf(d.deviceId)).toEqual([]); // pending: held 1 s of 2
    await cpu(d, [[97, 57]]);
    expect(await alertsOf(d.deviceId)).toEqual([{ type: "cpu_hot", state: "firing", severity: "critical" }]);
    await cpu(d, [
      [98, 56],
      [99, 55],
    ]);
    expect((await alertsOf(d.deviceId)).length).toBe(1); // still the one alert
    await cpu(d, [[10, 54]]);
    expect(await alertsOf(d.deviceId)).toEqual([{ type: "cpu_hot", state: "resolved", severity: "critical" }]);
    await cpu(d, [
      [95, 50],
      [95, 45],
      [95, 40],
    ]);
    expect((await alertsOf(d.deviceId)).length).toBe(1); // cooldown
    const [state] =
      await srv.sql`select state from alert_rule_states s join alert_rules r on r.id = s.rule_id where r.name = 'CPU hot' and s.device_id = ${d.deviceId}`;
    expect(state?.state).toBe("pending");
  });

  test("a flapping condition: the sixth change within an hour sends one flapping notice, then silence until it settles", async () => {
    const ch = await srv.api("/api/v1/notification-channels", {
      body: { name: "flap sink", type: "webhook", config: { url: "http://127.0.0.1:9/never" } },
    });
    const { id: channelId } = (await ch.json()) as { id: string };
    await srv.api("/api/v1/alert-rules", {
      body: {
        name: "CPU flap",
        metric: "cpu_percent",
        operator: ">",
        threshold: 90,
        durationSeconds: 0,
        severity: "warning",
        cooldownSeconds: 0,
        scope: { type: "tag", tag: "env=flap" },
        channelIds: [channelId],
      },
    });
    const d = await device(["env=flap"]);
    const events = async () =>
      (
        await srv.sql<{ event: string }[]>`select event from notification_outbox where channel_id = ${channelId} order by created_at, id`
      ).map((r) => r.event);
    // fire and clear every minute, from 50 minutes ago: 10 changes
    const points: [number, number][] = [];
    for (let i = 0; i < 10; i++) points.push([i % 2 === 0 ? 95 : 40, 3000 - i * 60]);
    await cpu(d, points);
    expect(await events()).toEqual(["alert.firing", "alert.resolved", "alert.firing", "alert.resolved", "alert.firing", "alert.flapping"]);
    expect((await alertsOf(d.deviceId)).length).toBe(5); // the alerts themselves are still recorded
    // 10 more minutes of the same: still silent
    await cpu(d, [
      [95, 2300],
      [40, 2250],
    ]);
    expect((await events()).length).toBe(6);
    // quiet for more than 30 minutes (clear since 2250 s ago): one notice, and notifications resume
    await cpu(d, [[40, 300]]);
    expect((await events()).at(-1)).toBe("alert.stable");
    await cpu(d, [[95, 200]]);
    expect((await events()).slice(-2)).toEqual(["alert.stable", "alert.firing"]);
    const [state] =
      await srv.sql`select flapping from alert_rule_states s join alert_rules r on r.id = s.rule_id where r.name = 'CPU flap' and s.device_id = ${d.deviceId}`;
    expect(state?.flapping).toBe(false);
  });

  test("a device outside the rule's scope is not alerted", async () => {
    const d = await device(["env=elsewhere"]);
    await cpu(d, [
      [95, 30],
      [95, 25],
      [95, 20],
    ]);
    expect((await alertsOf(d.deviceId)).filter((a) => a.type === "cpu_hot")).toEqual([]);
  });

  test("states that raise no alert are written within a moment, together, without anyone waiting; a vanished rule spoils none", async () => {
    const res = await srv.api("/api/v1/alert-rules", {
      body: {
        name: "CPU wave",
        metric: "cpu_percent",
        operator: ">",
        threshold: 50,
        durationSeconds: 3600,
        severity: "info",
        cooldownSeconds: 0,
        scope: { type: "tag", tag: "env=wave" },
      },
    });
    const { id: ruleId } = (await res.json()) as { id: string };
    const ds = [await device(["env=wave"]), await device(["env=wave"]), await device(["env=wave"])];
    for (const d of ds)
      await sendBeacon(srv.url, d.deviceId, d.secret, "1", [{ seq: ++seq, samples: [sample(new Date(Date.now() - 5000), 80)] }]);
    const states = async (state: string) =>
      (await srv.sql`select 1 from alert_rule_states where rule_id = ${ruleId} and state = ${state}`).length;
    await waitFor("pending states written by the timer", async () => (await states("pending")) === 3, 10_000);
    // a write holding a pair whose rule was deleted meanwhile still writes the rest
    const [first, second] = ds as [(typeof ds)[0], (typeof ds)[0]];
    const gone = crypto.randomUUID();
    const ok = {
      state: "ok" as const,
      since: Date.now(),
      alertId: crypto.randomUUID(),
      lastResolvedAt: null,
      changes: [Date.now()],
      flapping: false,
    };
    await saveStates(srv.sql, [
      { ruleId: gone, deviceId: first.deviceId, s: ok },
      { ruleId, deviceId: second.deviceId, s: ok },
    ]);
    const rows = await srv.sql<{ alertId: string | null; changes: Date[] }[]>`
      select alert_id as "alertId", changes from alert_rule_states where rule_id = ${ruleId} and device_id = ${second.deviceId} and state = 'ok'`;
    expect(rows.length).toBe(1);
    expect(rows[0]?.alertId).toBeNull(); // an alert that does not exist is not referenced
    expect(rows[0]?.changes.length).toBe(1);
    expect((await srv.sql`select 1 from alert_rule_states where rule_id = ${gone}`).length).toBe(0);
  });

  test("the default disk rules fire at once on a nearly full disk", async () => {
    const d = await device([]);
    const s = sample(new Date(Date.now() - 10_000));
    s.mounts = [{ mount: "/", fs: "ext4", totalBytes: 100, usedBytes: 97 }];
    await sendBeacon(srv.url, d.deviceId, d.secret, "1", [{ seq: ++seq, samples: [s] }]);
    await srv.server.services.rules.idle();
    const types = (await alertsOf(d.deviceId)).map((a) => a.type).sort();
    expect(types).toEqual(["disk_critical", "disk_low"]);
  });

  test("a disk rule can watch one mount; the alert names the mount", async () => {
    for (const [name, mount] of [
      ["Data disk low", "/data"],
      ["Root disk low", "/"],
    ]) {
      const res = await srv.api("/api/v1/alert-rules", {
        body: {
          name,
          metric: "disk_free_percent",
          operator: "<",
          threshold: 20,
          severity: "warning",
          mount,
          scope: { type: "tag", tag: "env=mounts" },
        },
      });
      expect(res.status).toBe(201);
    }
    const d = await device(["env=mounts"]);
    const s = sample(new Date(Date.now() - 10_000));
    s.mounts = [
      { mount: "/", fs: "ext4", totalBytes: 1000, usedBytes: 500 },
      { mount: "/data", fs: "xfs", totalBytes: 1000, usedBytes: 880 },
    ];
    await sendBeacon(srv.url, d.deviceId, d.secret, "1", [{ seq: ++seq, samples: [s] }]);
    await srv.server.services.rules.idle();
    const alerts = await srv.sql<{ type: string; message: string }[]>`select type, message from alerts where device_id = ${d.deviceId}`;
    expect(alerts.map((a) => a.type)).toEqual(["data_disk_low"]);
    expect(alerts[0]?.message).toContain("/data 12.0 % free < 20");
    const bad = await srv.api("/api/v1/alert-rules", {
      body: { name: "x", metric: "cpu_percent", operator: ">", threshold: 1, severity: "info", mount: "/" },
    });
    expect(bad.status).toBe(422);
  });

  test("bad rules are 422; another organization's rules are 404; read-only cannot change rules", async () => {
    for (const body of [
      { name: "x", metric: "temperature", operator: ">", threshold: 1, severity: "critical" },
      { name: "x", metric: "cpu_percent", operator: "!=", threshold: 1, severity: "critical" },
      { name: "x", metric: "cpu_percent", operator: ">", threshold: "high", severity: "critical" },
      { name: "x", metric: "cpu_percent", operator: ">", threshold: 1, severity: "critical", scope: { type: "site" } },
    ]) {
      expect((await srv.api("/api/v1/alert-rules", { body })).status).toBe(422);
    }
    const other = await otherOrganization(srv.sql);
    const cookie = await login(srv.url, other.email, other.password);
    const mine = (await (await srv.api("/api/v1/alert-rules")).json()) as { items: { id: string }[] };
    const res = await fetch(`${srv.url}/api/v1/alert-rules/${mine.items[0]?.id}`, { method: "DELETE", headers: { cookie } });
    expect(res.status).toBe(404);
    await srv.api("/api/v1/users", { body: { email: "ro@example.com", role: "readonly", password: "a long password" } });
    const ro = await login(srv.url, "ro@example.com", "a long password");
    const post = await fetch(`${srv.url}/api/v1/alert-rules`, {
      method: "POST",
      headers: { cookie: ro, "content-type": "application/json" },
      body: JSON.stringify({ name: "x", metric: "cpu_percent", operator: ">", threshold: 1, severity: "info" }),
    });
    expect(post.status).toBe(403);
  });
});

describe("after a restart", () => {
  test("rule state is kept: a pending condition that completes fires without starting over", async () => {
    await srv.api("/api/v1/alert-rules", {
      body: {
        name: "Load high",
        metric: "load1",
        operator: ">",
        threshold: 0.1,
        durationSeconds: 5,
        severity: "warning",
        cooldownSeconds: 0,
        scope: { type: "tag", tag: "env=restart" },
      },
    });
    const d = await device(["env=restart"]);
    await cpu(d, [[1, 100]]); // load1 in the fixture is 0.5: pending from 100 s ago
    const { port, databaseUrl } = srv;
    await srv.stop();
    srv = await startTestServer({ port }, databaseUrl);
    await cpu(d, [[1, 90]]); // 10 s later: held long enough
    await waitFor("load alert", async () => (await alertsOf(d.deviceId)).some((a) => a.type === "load_high" && a.state === "firing"));
  });
});

describe("alert handling", () => {
  test("a maintenance window over the device's tag keeps its rule from firing", async () => {
    await srv.api("/api/v1/alert-rules", {
      body: {
        name: "CPU maint",
        metric: "cpu_percent",
        operator: ">",
        threshold: 90,
        durationSeconds: 0,
        severity: "warning",
        cooldownSeconds: 0,
        scope: { type: "tag", tag: "env=maint" },
      },
    });
    const w = await srv.api("/api/v1/maintenance-windows", {
      body: {
        name: "patch night",
        scope: { type: "tag", tag: "env=maint" },
        startsAt: new Date(Date.now() - 60_000).toISOString(),
        endsAt: new Date(Date.now() + 3600_000).toISOString(),
      },
    });
    expect(w.status).toBe(201);
    const d = await device(["env=maint"]);
    await cpu(d, [
      [99, 30],
      [99, 20],
    ]);
    expect(await alertsOf(d.deviceId)).toEqual([]);
    await srv.api(`/api/v1/maintenance-windows/${((await w.json()) as { id: string }).id}`, { method: "DELETE" });
    await cpu(d, [[99, 10]]);
    expect((await alertsOf(d.deviceId)).map((a) => a.type)).toEqual(["cpu_maint"]);
  });

  test("notes, resolving by hand, and escalation of unacknowledged alerts", async () => {
    const rule = (await (
      await srv.api("/api/v1/alert-rules", {
        body: {
          name: "CPU esc",
          metric: "cpu_percent",
          operator: ">",
          threshold: 90,
          durationSeconds: 0,
          severity: "critical",
          escalateAfterSeconds: 60,
          scope: { type: "tag", tag: "env=esc" },
        },
      })
    ).json()) as { id: string; escalateAfterSeconds: number };
    expect(rule.escalateAfterSeconds).toBe(60);
    const d = await device(["env=esc"]);
    await cpu(d, [[99, 10]]);
    const [alert] = await srv.sql<{ id: string }[]>`select id from alerts where device_id = ${d.deviceId}`;
    const note = await srv.api(`/api/v1/alerts/${alert!.id}/notes`, { body: { text: "looking into it" } });
    expect(note.status).toBe(201);
    const notes = (await (await srv.api(`/api/v1/alerts/${alert!.id}/notes`)).json()) as { items: { text: string }[] };
    expect(notes.items.map((n) => n.text)).toEqual(["looking into it"]);
    await srv.sql`update alerts set created_at = now() - interval '2 minutes' where id = ${alert!.id}`;
    const { dueEscalations } = await import("../alerts/store.ts");
    expect((await dueEscalations(srv.sql)).map((a) => a.id)).toEqual([alert!.id]);
    expect(await dueEscalations(srv.sql)).toEqual([]); // once
    expect((await srv.api(`/api/v1/alerts/${alert!.id}/resolve`, { body: {} })).status).toBe(200);
    expect((await srv.api(`/api/v1/alerts/${alert!.id}/resolve`, { body: {} })).status).toBe(404);
    expect((await alertsOf(d.deviceId))[0]?.state).toBe("resolved");
    expect((await srv.api(`/api/v1/alerts/${alert!.id}/notes`, { body: { text: "" } })).status).toBe(422);
  });
});
