import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { LiveFrame } from "../protocol/live.ts";
import { device } from "../testing/fixtures.ts";
import { login, startTestServer, type TestServer, waitFor } from "../testing/harness.ts";

/**
 * Smart groups as the scope of permission assignments: a technician limited to the group "Pilot"
 * reaches its current members only (not the rest of their client), follows membership as tags change,
 * hears only about members on the live socket; clients and groups together reach the union.
 */
let srv: TestServer;
let orgId: string;
let siteA: string;
let clientB: string;
let pilotA: string;
let plainA: string;
let hostB: string;
let group: string;
let cookie: string;

beforeAll(async () => {
  srv = await startTestServer();
  const [site] = await srv.sql<{ id: string; organizationId: string }[]>`
    select id, organization_id as "organizationId" from sites order by created_at limit 1`;
  orgId = site!.organizationId;
  siteA = site!.id;
  clientB = ((await (await srv.api("/api/v1/clients", { body: { name: "Client B" } })).json()) as { id: string }).id;
  const siteB = ((await (await srv.api("/api/v1/sites", { body: { clientId: clientB, name: "B office" } })).json()) as { id: string }).id;
  pilotA = await device(srv.sql, { organizationId: orgId, siteId: siteA, hostname: "pilot-a", tags: ["ring=pilot"] });
  plainA = await device(srv.sql, { organizationId: orgId, siteId: siteA, hostname: "plain-a" });
  hostB = await device(srv.sql, { organizationId: orgId, siteId: siteB, hostname: "host-b" });
  const made = await srv.api("/api/v1/groups", { body: { name: "Pilot", expression: 'tag.ring = "pilot"' } });
  group = ((await made.json()) as { id: string }).id;
  await waitFor("the group's first member", async () => {
    const m = (await (await srv.api(`/api/v1/groups/${group}/devices`)).json()) as { items: { id: string }[] };
    return m.items.some((d) => d.id === pilotA) || undefined;
  });
  const res = await srv.api("/api/v1/users", {
    body: { email: "pilot-tech@example.com", password: "a long password", role: "technician", groupIds: [group] },
  });
  expect(res.status).toBe(201);
  expect(await res.json()).toMatchObject({ clientIds: null, groupIds: [group] });
  cookie = await login(srv.url, "pilot-tech@example.com", "a long password");
}, 120_000);
afterAll(() => srv.stop());

const as = (path: string, init: { method?: string; body?: unknown; auth?: Record<string, string> } = {}) =>
  fetch(`${srv.url}${path}`, {
    method: init.method ?? (init.body ? "POST" : "GET"),
    headers: { ...(init.auth ?? { cookie }), "content-type": "application/json" },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
const hostnames = async (auth?: Record<string, string>) =>
  ((await (await as("/api/v1/devices", { auth })).json()) as { items: { hostname: string }[] }).items.map((d) => d.hostname).sort();
const retag = (id: string, tags: string[]) => srv.api(`/api/v1/devices/${id}`, { method: "PATCH", body: { tags } });

describe("a user limited to a smart group", () => {
  test("reaches the group's members only: not the rest of their client, not another client", async () => {
    expect(await hostnames()).toEqual(["pilot-a"]);
    const counts = (await (await as("/api/v1/devices/counts")).json()) as Record<string, number>;
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1);
    expect((await as(`/api/v1/devices/${pilotA}`)).status).toBe(200);
    for (const id of [plainA, hostB]) {
      const res = await as(`/api/v1/devices/${id}`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("DEVICE_NOT_FOUND");
      expect((await as(`/api/v1/devices/${id}/commands`, { body: { type: "reboot", payload: {} } })).status).toBe(404);
    }
    // organization-wide permissions are dropped, as for a client-scoped user
    const me = (await (await as("/api/v1/auth/me")).json()) as { principal: { permissions: string[] } };
    expect(me.principal.permissions).toContain("device:terminal");
    expect(me.principal.permissions).not.toContain("schedule:manage");
    const schedule = await as("/api/v1/schedules", {
      body: { name: "x", cron: "0 3 * * *", target: { groupId: group }, language: "sh", content: "true" },
    });
    expect(schedule.status).toBe(403);
  });

  test("clients, sites and tags name only what they reach: another client's names and sizes stay unseen", async () => {
    const clients = (await (await as("/api/v1/clients")).json()) as {
      items: { id: string; name: string; sites: { id: string; deviceCount: number }[] }[];
    };
    expect(clients.items.map((c) => [c.name, c.sites.map((s) => [s.id, s.deviceCount])])).toEqual([["Default client", [[siteA, 1]]]]);
    const sites = (await (await as("/api/v1/sites")).json()) as { items: { id: string; deviceCount: number }[] };
    expect(sites.items.map((s) => [s.id, s.deviceCount])).toEqual([[siteA, 1]]);
    const tags = (await (await as("/api/v1/tags")).json()) as { items: { tag: string; devices: number }[] };
    expect(tags.items).toEqual([{ tag: "ring=pilot", devices: 1 }]);
    // the owner still sees everything
    const all = (await (await srv.api("/api/v1/clients")).json()) as { items: { name: string }[] };
    expect(all.items.map((c) => c.name).sort()).toEqual(["Client B", "Default client"]);
  });

  test("the reach follows membership: a device tagged into the group is reached, tagged out it is a 404 again", async () => {
    expect((await retag(plainA, ["ring=pilot"])).status).toBe(200);
    await waitFor("plain-a reached", async () => (await as(`/api/v1/devices/${plainA}`)).status === 200 || undefined);
    expect(await hostnames()).toEqual(["pilot-a", "plain-a"]);
    expect((await retag(plainA, [])).status).toBe(200);
    await waitFor("plain-a out of reach", async () => (await as(`/api/v1/devices/${plainA}`)).status === 404 || undefined);
    expect(await hostnames()).toEqual(["pilot-a"]);
  });

  test("the live socket carries only the members' events, and follows membership", async () => {
    const ws = new WebSocket(`${srv.url.replace("http", "ws")}/api/v1/live`, { headers: { cookie } } as unknown as string[]);
    const frames: LiveFrame[] = [];
    ws.addEventListener("message", (e) => frames.push(JSON.parse(String(e.data))));
    await waitFor("hello", async () => frames.some((f) => f.type === "hello") || undefined);
    const status = (deviceId: string, hostname: string) =>
      srv.server.services.live.publish(orgId, {
        type: "device.status",
        deviceId,
        hostname,
        status: "online",
        previous: "offline",
        at: new Date().toISOString(),
      });
    const heard = () => frames.flatMap((f) => (f.type === "device.status" ? [f.data.hostname] : []));
    // the reach loads asynchronously: publish until the member's event arrives
    await waitFor("pilot-a heard", async () => {
      status(pilotA, "pilot-a");
      return heard().includes("pilot-a") || undefined;
    });
    status(plainA, "plain-a");
    status(hostB, "host-b");
    status(pilotA, "pilot-a");
    await waitFor("the last pilot-a event", async () => heard().filter((h) => h === "pilot-a").length >= 2 || undefined);
    expect(heard().filter((h) => h !== "pilot-a")).toEqual([]);
    // plain-a joins the group: the socket starts hearing about it
    expect((await retag(plainA, ["ring=pilot"])).status).toBe(200);
    await waitFor("plain-a heard after joining", async () => {
      status(plainA, "plain-a");
      return heard().includes("plain-a") || undefined;
    });
    expect(heard()).not.toContain("host-b");
    ws.close();
    expect((await retag(plainA, [])).status).toBe(200);
  });

  test("clients and groups together reach the union; an API key likewise", async () => {
    const both = await srv.api("/api/v1/users", {
      body: { email: "both@example.com", password: "a long password", role: "technician", clientIds: [clientB], groupIds: [group] },
    });
    expect(both.status).toBe(201);
    const bothCookie = await login(srv.url, "both@example.com", "a long password");
    expect(await hostnames({ cookie: bothCookie })).toEqual(["host-b", "pilot-a"]);
    const key = await srv.api("/api/v1/api-keys", { body: { name: "pilot ring", role: "technician", groupIds: [group] } });
    expect(key.status).toBe(201);
    const made = (await key.json()) as { key: string; groupIds: string[] };
    expect(made.groupIds).toEqual([group]);
    expect(await hostnames({ authorization: `Bearer ${made.key}` })).toEqual(["pilot-a"]);
  });

  test("assignments name the organization's groups only; a scoped caller cannot grant groups; bad ids are 4xx", async () => {
    const unknown = await srv.api("/api/v1/users", {
      body: { email: "x1@example.com", password: "a long password", role: "technician", groupIds: [crypto.randomUUID()] },
    });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("GROUP_NOT_FOUND");
    for (const groupIds of [[], ["not-a-uuid"], "x", Array.from({ length: 101 }, () => crypto.randomUUID())]) {
      const res = await srv.api("/api/v1/api-keys", { body: { name: "k", groupIds } });
      expect([JSON.stringify(groupIds).slice(0, 20), res.status]).toEqual([JSON.stringify(groupIds).slice(0, 20), 422]);
    }
    const orgWide = await srv.api("/api/v1/api-keys", { body: { name: "k", groupIds: [group], scopes: ["schedule:manage"] } });
    expect(orgWide.status).toBe(422);
    // the group-scoped technician holds no users:manage: they cannot widen anyone's reach
    const grant = await as("/api/v1/users", {
      body: { email: "x2@example.com", password: "a long password", role: "technician", groupIds: [group] },
    });
    expect(grant.status).toBe(403);
    // the owner widens the user back to the whole organization: every device again
    const [user] = await srv.sql<{ id: string }[]>`select id from users where email = 'pilot-tech@example.com'`;
    const audit = await srv.sql`select 1 from audit_log where action = 'user.created' and details->'groupIds' ? ${group}`;
    expect(audit.count).toBeGreaterThan(0);
    const widened = await srv.api(`/api/v1/users/${user!.id}`, { method: "PATCH", body: { groupIds: null } });
    expect(widened.status).toBe(200);
    cookie = await login(srv.url, "pilot-tech@example.com", "a long password");
    expect(await hostnames()).toEqual(["host-b", "pilot-a", "plain-a"]);
  });
});
