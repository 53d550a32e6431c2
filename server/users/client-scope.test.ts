import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { alert, command, device, otherOrganization, terminalSession } from "../testing/fixtures.ts";
import { login, startTestServer, type TestServer } from "../testing/harness.ts";

/** A user limited to chosen clients: another client's device is a 404, as another organization's is. */
let srv: TestServer;
let cookie: string;
let mine: string;
let theirs: string;
let clientA: string;
let orgId: string;

beforeAll(async () => {
  srv = await startTestServer();
  const [site] = await srv.sql<{ id: string; organizationId: string; clientId: string }[]>`
    select id, organization_id as "organizationId", client_id as "clientId" from sites order by created_at limit 1`;
  clientA = site!.clientId;
  orgId = site!.organizationId;
  mine = await device(srv.sql, { organizationId: site!.organizationId, siteId: site!.id, hostname: "a-host" });
  const clientB = ((await (await srv.api("/api/v1/clients", { body: { name: "Client B" } })).json()) as { id: string }).id;
  const siteB = ((await (await srv.api("/api/v1/sites", { body: { clientId: clientB, name: "B office" } })).json()) as { id: string }).id;
  theirs = await device(srv.sql, { organizationId: site!.organizationId, siteId: siteB, hostname: "b-host" });
  const res = await srv.api("/api/v1/users", {
    body: { email: "tech-a@example.com", password: "a long password", role: "technician", clientIds: [clientA] },
  });
  expect(res.status).toBe(201);
  expect(((await res.json()) as { clientIds: string[] }).clientIds).toEqual([clientA]);
  cookie = await login(srv.url, "tech-a@example.com", "a long password");
}, 120_000);
afterAll(() => srv.stop());

const as = (path: string, init: { method?: string; body?: unknown } = {}) =>
  fetch(`${srv.url}${path}`, {
    method: init.method ?? (init.body ? "POST" : "GET"),
    headers: { cookie, "content-type": "application/json" },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });

describe("client-scoped assignments", () => {
  test("the list and counts hold only the client's devices; /me names the clients", async () => {
    const list = (await (await as("/api/v1/devices")).json()) as { items: { hostname: string }[]; total: number };
    expect(list.items.map((d) => d.hostname)).toEqual(["a-host"]);
    expect(list.total).toBe(1);
    const counts = (await (await as("/api/v1/devices/counts")).json()) as Record<string, number>;
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1);
    const me = (await (await as("/api/v1/auth/me")).json()) as { principal: { clientIds: string[] } };
    expect(me.principal.clientIds).toEqual([clientA]);
  });

  test("another client's device is 404 on every device path; their own works", async () => {
    expect((await as(`/api/v1/devices/${mine}`)).status).toBe(200);
    for (const [method, path, body] of [
      ["GET", `/api/v1/devices/${theirs}`],
      ["GET", `/api/v1/devices/${theirs}/telemetry`],
      ["GET", `/api/v1/devices/${theirs}/commands`],
      ["PATCH", `/api/v1/devices/${theirs}`, { tags: ["x"] }],
      ["POST", `/api/v1/devices/${theirs}/commands`, { type: "reboot", payload: {} }],
      ["POST", "/api/v1/commands", { type: "reboot", payload: {}, deviceIds: [mine, theirs] }],
    ] as const) {
      const res = await as(path, { method, body });
      expect([method, path, res.status]).toEqual([method, path, 404]);
    }
    const [row] = await srv.sql<{ n: number }[]>`select count(*)::int as n from commands where device_id = ${theirs}`;
    expect(row?.n).toBe(0);
    expect((await as(`/api/v1/devices/${mine}/commands`, { body: { type: "reboot", payload: {} } })).status).toBe(202);
  });

  test("another client's alerts are not listed and are 404 to act on", async () => {
    const ours = await alert(srv.sql, mine, { message: "ours" });
    const foreign = await alert(srv.sql, theirs, { message: "theirs" });
    const list = (await (await as("/api/v1/alerts")).json()) as { items: { id: string }[] };
    expect(list.items.map((a) => a.id)).toEqual([ours]);
    for (const [method, path, body] of [
      ["POST", `/api/v1/alerts/${foreign}/acknowledge`],
      ["POST", `/api/v1/alerts/${foreign}/resolve`],
      ["GET", `/api/v1/alerts/${foreign}/notes`],
      ["POST", `/api/v1/alerts/${foreign}/notes`, { text: "x" }],
    ] as const) {
      const res = await as(path, { method, body: body ?? (method === "POST" ? {} : undefined) });
      expect([path, res.status]).toEqual([path, 404]);
    }
    expect((await as(`/api/v1/alerts/${ours}/acknowledge`, { method: "POST", body: {} })).status).toBe(200);
  });

  test("another client's commands and terminal recordings are 404 and not listed", async () => {
    const cmd = await command(srv.sql, orgId, theirs, "succeeded");
    const session = await terminalSession(srv.sql, orgId, theirs);
    expect((await as(`/api/v1/commands/${cmd}`)).status).toBe(404);
    expect((await as(`/api/v1/terminal-sessions/${session}/recording`)).status).toBe(404);
    const sessions = (await (await as("/api/v1/terminal-sessions")).json()) as { items: { id: string }[] };
    expect(sessions.items.map((x) => x.id)).not.toContain(session);
  });

  test("organization-wide permissions are dropped: schedules and maintenance windows are refused", async () => {
    const me = (await (await as("/api/v1/auth/me")).json()) as { principal: { permissions: string[] } };
    expect(me.principal.permissions).toContain("device:script");
    expect(me.principal.permissions).not.toContain("schedule:manage");
    const schedule = await as("/api/v1/schedules", {
      body: { name: "x", cron: "0 3 * * *", target: { tag: "env=prod" }, language: "sh", content: "true" },
    });
    expect(schedule.status).toBe(403);
    const window = await as("/api/v1/maintenance-windows", {
      body: {
        name: "x",
        scope: { type: "organization" },
        startsAt: new Date().toISOString(),
        endsAt: new Date(Date.now() + 60_000).toISOString(),
      },
    });
    expect(window.status).toBe(403);
  });

  test("clients, sites and tags pickers name only their client: client B's names and sizes stay unseen", async () => {
    await srv.sql`update devices set tags = array['env=b'] where id = ${theirs}`;
    const clients = (await (await as("/api/v1/clients")).json()) as { items: { id: string; sites: { deviceCount: number }[] }[] };
    expect(clients.items.map((c) => c.id)).toEqual([clientA]);
    expect(clients.items[0]!.sites.map((s) => s.deviceCount)).toEqual([1]);
    const sites = (await (await as("/api/v1/sites")).json()) as { items: { clientId: string; clientName: string }[] };
    expect(sites.items.length).toBeGreaterThan(0);
    expect(sites.items.every((s) => s.clientId === clientA && s.clientName !== "Client B")).toBe(true);
    const tags = (await (await as("/api/v1/tags")).json()) as { items: { tag: string }[] };
    expect(tags.items.map((t) => t.tag)).not.toContain("env=b");
    await srv.sql`update devices set tags = '{}' where id = ${theirs}`;
  });

  test("a smart group's members and history hold only the client's devices", async () => {
    const made = await srv.api("/api/v1/groups", { body: { name: "every host", expression: 'hostname ~ "host"' } });
    expect(made.status).toBe(201);
    const { id } = (await made.json()) as { id: string };
    const members = async () => (await (await as(`/api/v1/groups/${id}/devices`)).json()) as { items: { hostname: string }[] };
    for (let i = 0; i < 50 && (await srv.sql`select 1 from device_group_members where group_id = ${id}`).length < 2; i++)
      await Bun.sleep(100);
    expect((await members()).items.map((d) => d.hostname)).toEqual(["a-host"]);
    const history = (await (await as(`/api/v1/groups/${id}/history`)).json()) as { items: { hostname: string }[] };
    expect(history.items.map((h) => h.hostname)).toEqual(["a-host"]);
  });

  test("assignments name the organization's clients only; a scoped user cannot move devices", async () => {
    const other = await otherOrganization(srv.sql);
    const [foreign] = await srv.sql<{ id: string }[]>`select id from clients where organization_id = ${other.organizationId}`;
    const res = await srv.api("/api/v1/users", {
      body: { email: "x@example.com", password: "a long password", role: "technician", clientIds: [foreign!.id] },
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("CLIENT_NOT_FOUND");
    const [site] = await srv.sql<{ id: string }[]>`select id from sites where client_id = ${clientA} limit 1`;
    expect((await as(`/api/v1/devices/${mine}`, { method: "PATCH", body: { siteId: site!.id } })).status).toBe(403);
  });
});
