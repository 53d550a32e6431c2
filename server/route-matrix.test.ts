import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { fileTransfer, notification, otherOrganization, tableCounts, terminalSession } from "./testing/fixtures.ts";
import { login, startTestServer, type TestServer } from "./testing/harness.ts";
import { type AppRoute, REQUIRED_QUERY, appRoutes, concretePath } from "./testing/routes.ts";

/**
 * The unauthenticated / other-organization / bad-input matrix, generated from the app's own route
 * list: a route added tomorrow is in it the day it is added (and a route with an id of a kind this
 * file does not know, or a body it has no sample for, fails the matrix until it is taught).
 */
let srv: TestServer;
let routes: AppRoute[];
/** Ids of the other organization's resources, by the path segment before `:id`. */
const foreign: Record<string, string> = {};

beforeAll(async () => {
  srv = await startTestServer();
  // HEAD answers carry no body to read a code from (the tus upload status route is one)
  routes = appRoutes(srv.server.app).filter((r) => !r.public && r.method !== "HEAD");
  const other = await otherOrganization(srv.sql);
  const cookie = await login(srv.url, other.email, other.password);
  const as = async (path: string, body: unknown) => {
    const res = await fetch(`${srv.url}${path}`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`fixture ${path}: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { id: string }).id;
  };
  foreign.devices = other.deviceId;
  foreign.alerts = other.alertId;
  foreign.scripts = await as("/api/v1/scripts", { name: "theirs", language: "bash", content: "true" });
  foreign.commands = await as(`/api/v1/devices/${other.deviceId}/commands`, { type: "reboot", payload: {} });
  foreign["alert-rules"] = await as("/api/v1/alert-rules", {
    name: "Their CPU",
    metric: "cpu_percent",
    operator: ">",
    threshold: 90,
    durationSeconds: 60,
    severity: "warning",
    scope: { type: "organization" },
  });
  foreign["notification-channels"] = await as("/api/v1/notification-channels", {
    name: "their hook",
    type: "webhook",
    config: { url: "http://127.0.0.1:9/x" },
  });
  foreign.workflows = await as("/api/v1/workflows", {
    name: "theirs",
    trigger: { event: "alert.firing" },
    actions: [{ type: "add_note", text: "n" }],
  });
  foreign.schedules = await as("/api/v1/schedules", {
    name: "theirs",
    cron: "0 3 * * *",
    target: { deviceIds: [other.deviceId] },
    language: "sh",
    content: "true",
  });
  foreign["maintenance-windows"] = await as("/api/v1/maintenance-windows", {
    name: "theirs",
    scope: { type: "organization" },
    startsAt: new Date().toISOString(),
    endsAt: new Date(Date.now() + 3_600_000).toISOString(),
  });
  foreign["api-keys"] = await as("/api/v1/api-keys", { name: "theirs" });
  foreign.clients = await as("/api/v1/clients", { name: "their client" });
  foreign.roles = await as("/api/v1/roles", { name: "their role", permissions: ["device:view"] });
  foreign.groups = await as("/api/v1/groups", { name: "theirs", expression: "cpu > 1" });
  foreign.policies = await as("/api/v1/policies", { name: "theirs" });
  foreign["patch-policies"] = await as("/api/v1/patch-policies", { policyId: foreign.policies });
  foreign["policy-blocks"] = await as("/api/v1/policy-blocks", { target: { type: "site", id: other.siteId } });
  foreign.sites = other.siteId;
  foreign["enrollment-tokens"] = await as("/api/v1/enrollment-tokens", {});
  foreign.users = await as("/api/v1/users", {
    email: `t-${crypto.randomUUID().slice(0, 8)}@example.com`,
    password: "their password 1",
    name: "T",
    role: "technician",
  });
  // the session the other organization's owner signed in with above
  foreign.sessions = (
    await srv.sql<{ id: string }[]>`select s.id from sessions s join users u on u.id = s.user_id where u.email = ${other.email}`
  )[0]!.id;
  foreign["terminal-sessions"] = await terminalSession(srv.sql, other.organizationId, other.deviceId);
  foreign.transfers = await fileTransfer(srv.sql, other.organizationId, other.deviceId);
  foreign["notification-dead-letters"] = await notification(srv.sql, other.organizationId, foreign["notification-channels"], "dead");
}, 120_000);
afterAll(() => srv.stop());

/** A valid body for each route that takes one and names a resource, so the request reaches the lookup. */
const VALID_BODY: Record<string, unknown> = {
  "PUT /api/v1/scripts/:id": { name: "x", language: "bash", content: "true" },
  "PUT /api/v1/alert-rules/:id": {
    name: "x",
    metric: "cpu_percent",
    operator: ">",
    threshold: 90,
    durationSeconds: 60,
    severity: "warning",
    scope: { type: "organization" },
  },
  "POST /api/v1/alerts/:id/notes": { text: "x" },
  "POST /api/v1/devices/:id/commands": { type: "reboot", payload: {} },
  "POST /api/v1/devices/:id/processes/:pid/kill": { signal: "TERM" },
  "POST /api/v1/devices/:id/files/ops": { op: "mkdir", path: "/tmp/x" },
  "POST /api/v1/devices/:id/files/elevation": { reason: "ticket 1" },
  "POST /api/v1/devices/:id/files/send": { path: "/tmp/x", toDeviceId: "01890000-0000-7000-8000-000000000000", toPath: "/tmp/y" },
  "PATCH /api/v1/users/:id": { name: "x" },
  "POST /api/v1/devices/:id/disconnect": {},
  "PATCH /api/v1/devices/:id": { tags: ["x"] },
  "PUT /api/v1/clients/:id": { name: "x" },
  "PUT /api/v1/sites/:id": { name: "x" },
  "PUT /api/v1/roles/:id": { name: "x" },
  "PUT /api/v1/groups/:id": { name: "x", expression: "cpu > 1" },
  "PUT /api/v1/policies/:id": { name: "x" },
  "POST /api/v1/api-keys/:id/rotate": {},
  "POST /api/v1/policies/:id/assignments": { target: { type: "organization" } },
  "PUT /api/v1/policies/:id/assignments/:assignmentId": { enforced: true },
  "POST /api/v1/devices/:id/updates/install": { updateIds: [crypto.randomUUID()] },
  "PUT /api/v1/patch-policies/:id": { policyId: crypto.randomUUID() },
  "POST /api/v1/patch-policies/:id/window": {},
};

/** The resource kind an `:id` names: the path segment before it. */
const kindOf = (path: string) => path.split("/:id")[0]?.split("/").at(-1) ?? "";
const idRoutes = () => routes.filter((r) => r.path.includes("/:id"));
const send = (r: AppRoute, path: string, headers: Record<string, string>, body?: unknown) =>
  fetch(`${srv.url}${path}${REQUIRED_QUERY[`${r.method} ${r.path}`] ?? ""}`, {
    method: r.method,
    headers: r.socket
      ? {
          ...headers,
          upgrade: "websocket",
          connection: "Upgrade",
          "sec-websocket-version": "13",
          "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        }
      : { ...headers, ...(r.method === "GET" ? {} : { "content-type": "application/json" }) },
    body: r.method === "GET" ? undefined : JSON.stringify(body ?? {}),
  });
const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;
/** Toolbox routes name a process and a service besides the device: a valid one of each, so the device decides. */
const fill = (path: string, id: string) =>
  concretePath(path, (p) => (p === "action" ? "disable" : p === "pid" ? "1234" : p === "name" ? "cron" : id));

describe("every route of the app, generated from its route list", () => {
  test("unauthenticated → 401 UNAUTHENTICATED (sockets before the upgrade)", async () => {
    expect(routes.length).toBeGreaterThan(60);
    for (const r of routes) {
      const res = await send(r, fill(r.path, crypto.randomUUID()), {});
      expect([r.method, r.path, res.status]).toEqual([r.method, r.path, 401]);
      expect(await code(res)).toBe("UNAUTHENTICATED");
    }
  });

  test("another organization's id → 404, and nothing of theirs changes", async () => {
    const before = await tableCounts(srv.sql);
    const wrong: string[] = [];
    for (const r of idRoutes()) {
      const kind = kindOf(r.path);
      expect([r.path, kind in foreign]).toEqual([r.path, true]);
      const key = `${r.method} ${r.path}`;
      if (r.body && !r.socket) expect([key, key in VALID_BODY]).toEqual([key, true]);
      const res = await send(r, fill(r.path, foreign[kind] ?? ""), { cookie: srv.cookie }, VALID_BODY[key]);
      if (res.status !== 404) wrong.push(`${key} → ${res.status}`);
      else expect(await code(res)).toMatch(/_NOT_FOUND$/);
    }
    expect(wrong).toEqual([]);
    const after = await tableCounts(srv.sql);
    expect({ ...after, audit_log: 0 }).toEqual({ ...before, audit_log: 0 });
  });

  test("a malformed id → 422 VALIDATION_FAILED naming the parameter", async () => {
    for (const r of idRoutes()) {
      const res = await send(r, fill(r.path, "not-a-uuid"), { cookie: srv.cookie }, VALID_BODY[`${r.method} ${r.path}`]);
      expect([r.method, r.path, res.status]).toEqual([r.method, r.path, 422]);
      const body = (await res.json()) as { error: { code: string; details: { in: string } } };
      expect(body.error).toMatchObject({ code: "VALIDATION_FAILED", details: { in: "params" } });
    }
  });

  test("an empty body where the route's schema needs fields → 422 VALIDATION_FAILED", async () => {
    const needing = routes.filter((r) => {
      if (!r.body) return false;
      const schema = (
        srv.server.app.routes.find((x) => x.path === r.path && x.method === r.method)?.hooks as {
          body?: { allows?: (v: unknown) => boolean };
        }
      )?.body;
      return schema?.allows ? !schema.allows({}) : false;
    });
    expect(needing.length).toBeGreaterThan(5);
    for (const r of needing) {
      const res = await send(r, fill(r.path, crypto.randomUUID()), { cookie: srv.cookie }, {});
      expect([r.method, r.path, res.status]).toEqual([r.method, r.path, 422]);
      expect(await code(res)).toBe("VALIDATION_FAILED");
    }
  });
});
