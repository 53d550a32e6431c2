import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { enrollRealAgent, type EnrolledAgent } from "../testing/agents.ts";
import { startTestServer, type TestServer, waitFor } from "../testing/harness.ts";

/**
 * The real compiled agent binary against the real server, with short windows so the whole
 * online → unresponsive → offline → online cycle fits in a test.
 */
let srv: TestServer;
let agent: EnrolledAgent;

const statusOf = async (id: string) => (await srv.sql<{ status: string }[]>`select status from devices where id = ${id}`)[0]?.status;
const openOfflineAlerts = async (id: string) =>
  (
    await srv.sql<{ n: number }[]>`select count(*)::int as n from alerts where device_id = ${id} and type = 'offline' and state = 'firing'`
  )[0]?.n ?? 0;

beforeAll(async () => {
  srv = await startTestServer({ telemetryIntervalS: 1, beaconIntervalS: 5, onlineWindowS: 4, offlineAfterS: 12 });
  agent = await enrollRealAgent(srv, ["env=e2e"]);
}, 120_000);
afterAll(async () => {
  await agent?.stop();
  await srv?.stop();
});

describe("the pulse of a real agent", () => {
  test("comes online with telemetry, visible through the API", async () => {
    agent.start();
    await waitFor("online", async () => (await statusOf(agent.deviceId)) === "online", 30_000);
    const res = await srv.api(`/api/v1/devices?q=${encodeURIComponent("")}`);
    const list = (await res.json()) as {
      items: { id: string; status: string; telemetry: { cpuPercent: number } | null; tags: string[] }[];
    };
    const d = list.items.find((i) => i.id === agent.deviceId);
    expect(d?.status).toBe("online");
    expect(d?.tags).toEqual(["env=e2e"]);
    await waitFor("telemetry", async () => {
      const detail = (await (await srv.api(`/api/v1/devices/${agent.deviceId}`)).json()) as {
        telemetry: { cpuPercent: number } | null;
        cpuModel: string;
      };
      return detail.telemetry !== null && detail.cpuModel !== "";
    });
  });

  test("socket cut by the server → unresponsive while beacons arrive, then back online", async () => {
    const cut = await srv.api(`/api/v1/devices/${agent.deviceId}/disconnect`, { body: { retryAfterSeconds: 20 } });
    expect(((await cut.json()) as { wasConnected: boolean }).wasConnected).toBe(true);
    await waitFor("unresponsive", async () => (await statusOf(agent.deviceId)) === "unresponsive", 15_000);
    const seenBefore = (await srv.sql`select last_beacon_ts from devices where id = ${agent.deviceId}`)[0]?.last_beacon_ts;
    await waitFor(
      "a beacon",
      async () => {
        const [row] = await srv.sql`select last_beacon_ts from devices where id = ${agent.deviceId}`;
        return Number(row?.last_beacon_ts) > Number(seenBefore);
      },
      15_000,
    );
    // still unresponsive, not offline, while beacons keep coming (offline window is 12 s)
    await Bun.sleep(8000);
    expect(await statusOf(agent.deviceId)).toBe("unresponsive");
    expect(await openOfflineAlerts(agent.deviceId)).toBe(0);
    await waitFor("online again after the hold", async () => (await statusOf(agent.deviceId)) === "online", 30_000);
  });

  test("agent stopped → offline with a critical alert; started → online and the alert resolved", async () => {
    await agent.stop();
    await waitFor("offline", async () => (await statusOf(agent.deviceId)) === "offline", 30_000);
    expect(await openOfflineAlerts(agent.deviceId)).toBe(1);
    const alerts = (await (await srv.api(`/api/v1/alerts?deviceId=${agent.deviceId}`)).json()) as {
      items: { type: string; severity: string; state: string }[];
    };
    expect(alerts.items[0]).toMatchObject({ type: "offline", severity: "critical", state: "firing" });
    agent.start();
    await waitFor("online after restart", async () => (await statusOf(agent.deviceId)) === "online", 30_000);
    expect(await openOfflineAlerts(agent.deviceId)).toBe(0);
    const [resolved] = await srv.sql`select state, resolved_at from alerts where device_id = ${agent.deviceId} and type = 'offline'`;
    expect(resolved?.state).toBe("resolved");
    expect(resolved?.resolved_at).not.toBeNull();
  });

  test("every status change was pushed to dashboards on /api/v1/live", async () => {
    const ws = new WebSocket(`${srv.url.replace("http", "ws")}/api/v1/live`, { headers: { cookie: srv.cookie } } as unknown as string[]);
    const events: { type: string; data?: { status?: string; deviceId?: string } }[] = [];
    ws.addEventListener("message", (e) => events.push(JSON.parse(String(e.data))));
    await waitFor("live hello", async () => events.some((e) => e.type === "hello"));
    ws.send(JSON.stringify({ v: 1, id: crypto.randomUUID(), type: "watch", data: { deviceId: agent.deviceId } }));
    // watching switches the agent to live mode: telemetry every 2 s arrives over the live socket
    await waitFor("live telemetry", async () => events.filter((e) => e.type === "device.telemetry").length >= 2, 20_000);
    await srv.api(`/api/v1/devices/${agent.deviceId}/disconnect`, { body: { retryAfterSeconds: 0 } });
    await waitFor(
      "status event",
      async () => events.some((e) => e.type === "device.status" && e.data?.deviceId === agent.deviceId),
      15_000,
    );
    ws.close();
  });
});

describe("secret rotation with the real agent", () => {
  test("a due secret is rotated over the socket, persisted by the agent, and the new one works", async () => {
    const before = (await Bun.file(agent.configPath).json()) as { secret: string };
    await srv.sql`update devices set secret_rotated_at = now() - interval '2 days' where id = ${agent.deviceId}`;
    await srv.api(`/api/v1/devices/${agent.deviceId}/disconnect`, { body: { retryAfterSeconds: 0 } });
    const after = await waitFor(
      "a new secret in the agent's config",
      async () => {
        const c = (await Bun.file(agent.configPath).json()) as { secret: string };
        return c.secret !== before.secret ? c : undefined;
      },
      30_000,
    );
    await waitFor("rotation recorded", async () => {
      const [row] =
        await srv.sql`select pending_secret_hash, secret_rotated_at > now() - interval '1 minute' as fresh from devices where id = ${agent.deviceId}`;
      return row?.pending_secret_hash === null && row?.fresh === true;
    });
    expect(after.secret).not.toBe(before.secret);
    // the agent reconnects with the new secret
    await srv.api(`/api/v1/devices/${agent.deviceId}/disconnect`, { body: { retryAfterSeconds: 0 } });
    await Bun.sleep(1500);
    await waitFor("online with the new secret", async () => (await statusOf(agent.deviceId)) === "online", 30_000);
    const [audit] =
      await srv.sql`select count(*)::int as n from audit_log where target_id = ${agent.deviceId} and action = 'device.disconnected'`;
    expect(audit?.n).toBeGreaterThanOrEqual(2);
  });
});
