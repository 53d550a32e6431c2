import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { alert, device, otherOrganization } from "../testing/fixtures.ts";
import { login, startTestServer, type TestServer } from "../testing/harness.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
}, 120_000);
afterAll(() => srv.stop());

type Role = { id: string; name: string; permissions: string[]; users: number };
const as = (cookie: string, path: string, init: { method?: string; body?: unknown } = {}) =>
  fetch(`${srv.url}${path}`, {
    method: init.method ?? (init.body ? "POST" : "GET"),
    headers: { cookie, "content-type": "application/json" },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;

describe("custom roles", () => {
  let helpdesk: Role;
  let userId: string;
  let cookie: string;

  test("an unknown permission is 422 naming it; a duplicate name 409", async () => {
    const res = await srv.api("/api/v1/roles", { body: { name: "Bad", permissions: ["device:view", "device:fly"] } });
    expect(res.status).toBe(422);
    expect((await errorOf(res)).message).toContain("device:fly");
    const made = await srv.api("/api/v1/roles", {
      body: { name: "Helpdesk", permissions: ["alert:manage", "device:view", "alert:manage"] },
    });
    expect(made.status).toBe(201);
    helpdesk = (await made.json()) as Role;
    expect(helpdesk).toMatchObject({ name: "Helpdesk", permissions: ["device:view", "alert:manage"], users: 0 });
    expect((await srv.api("/api/v1/roles", { body: { name: "Helpdesk", permissions: [] } })).status).toBe(409);
    const list = (await (await srv.api("/api/v1/roles")).json()) as { items: Role[] };
    expect(list.items.map((r) => r.name)).toContain("Helpdesk");
    const perms = (await (await srv.api("/api/v1/permissions")).json()) as { items: { name: string }[] };
    expect(perms.items.map((p) => p.name)).toContain("users:manage");
  });

  test("a user with the custom role has exactly its permissions, resolved per request", async () => {
    const res = await srv.api("/api/v1/users", {
      body: { email: "helpdesk@example.com", password: "a long password", roleId: helpdesk.id },
    });
    expect(res.status).toBe(201);
    const user = (await res.json()) as { id: string; role: string; roleId: string };
    expect(user.roleId).toBe(helpdesk.id);
    userId = user.id;
    cookie = await login(srv.url, "helpdesk@example.com", "a long password");
    const me = (await (await as(cookie, "/api/v1/auth/me")).json()) as { principal: { permissions: string[]; roleId: string } };
    expect(me.principal).toMatchObject({ roleId: helpdesk.id, permissions: ["device:view", "alert:manage"] });

    const [org] = await srv.sql<{ id: string; siteId: string }[]>`
      select o.id, s.id as "siteId" from organizations o join sites s on s.organization_id = o.id
      join users u on u.organization_id = o.id where u.id = ${userId} limit 1`;
    const deviceId = await device(srv.sql, { organizationId: org!.id, siteId: org!.siteId, hostname: "helpdesk-host" });
    const alertId = await alert(srv.sql, deviceId);
    expect((await as(cookie, `/api/v1/alerts/${alertId}/acknowledge`, { method: "POST", body: {} })).status).toBe(200);
    const reboot = await as(cookie, `/api/v1/devices/${deviceId}/commands`, { body: { type: "reboot", payload: {} } });
    expect(reboot.status).toBe(403);
    expect((await as(cookie, "/api/v1/users")).status).toBe(403);

    const put = await srv.api(`/api/v1/roles/${helpdesk.id}`, {
      method: "PUT",
      body: { permissions: ["device:view", "alert:manage", "device:manage"] },
    });
    expect(put.status).toBe(200);
    const again = await as(cookie, `/api/v1/devices/${deviceId}/commands`, { body: { type: "reboot", payload: {} } });
    expect(again.status).toBe(202);
  });

  test("a role in use cannot be deleted (409); an unused one can; every change is audited with the actor", async () => {
    const busy = await srv.api(`/api/v1/roles/${helpdesk.id}`, { method: "DELETE" });
    expect(busy.status).toBe(409);
    expect((await errorOf(busy)).code).toBe("ROLE_IN_USE");
    expect((await srv.api(`/api/v1/users/${userId}`, { method: "PATCH", body: { role: "viewer" } })).status).toBe(200);
    const me = (await (await as(cookie, "/api/v1/auth/me")).json()) as { principal: { permissions: string[]; role: string } };
    expect(me.principal).toMatchObject({ role: "readonly", permissions: ["device:view"] });
    expect((await srv.api(`/api/v1/roles/${helpdesk.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await srv.api(`/api/v1/roles/${helpdesk.id}`, { method: "DELETE" })).status).toBe(404);
    const rows = await srv.sql<{ action: string; actor_name: string }[]>`
      select action, actor_name from audit_log where target_id = ${helpdesk.id} order by id`;
    expect(rows.map((r) => r.action)).toEqual(["role.created", "role.updated", "role.deleted"]);
    expect(rows.every((r) => r.actor_name.includes("@"))).toBe(true);
  });

  test("another organization's role is 404, for users and for the role routes", async () => {
    const other = await otherOrganization(srv.sql);
    const theirs = await as(await login(srv.url, other.email, other.password), "/api/v1/roles", {
      body: { name: "Theirs", permissions: ["device:view"] },
    });
    const { id } = (await theirs.json()) as Role;
    const res = await srv.api("/api/v1/users", { body: { email: "x@example.com", password: "a long password", roleId: id } });
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe("ROLE_NOT_FOUND");
    expect((await srv.api(`/api/v1/roles/${id}`, { method: "PUT", body: { name: "Mine" } })).status).toBe(404);
    expect((await srv.api(`/api/v1/roles/${id}`, { method: "DELETE" })).status).toBe(404);
  });

  test("nobody grants through a role what they do not hold", async () => {
    await srv.api("/api/v1/users", { body: { email: "admin3@example.com", password: "a long password", role: "admin" } });
    const admin = await login(srv.url, "admin3@example.com", "a long password");
    const res = await as(admin, "/api/v1/roles", { body: { name: "Landlord", permissions: ["tenancy:manage"] } });
    expect(res.status).toBe(403);
    expect((await errorOf(res)).code).toBe("ROLE_TOO_HIGH");
    // a custom role holding a technician's permissions and users:manage grants technician, not admin
    const lead = (await (
      await srv.api("/api/v1/roles", {
        body: {
          name: "Team lead",
          permissions: [
            "device:view",
            "device:manage",
            "device:terminal",
            "device:script",
            "device:files",
            "patch:approve",
            "alert:manage",
            "maintenance:manage",
            "schedule:manage",
            "script:manage",
            "enrollment:manage",
            "notification:manage",
            "users:manage",
          ],
        },
      })
    ).json()) as Role;
    await srv.api("/api/v1/users", { body: { email: "lead@example.com", password: "a long password", roleId: lead.id } });
    const leadCookie = await login(srv.url, "lead@example.com", "a long password");
    const tech = await as(leadCookie, "/api/v1/users", {
      body: { email: "t2@example.com", password: "a long password", role: "technician" },
    });
    expect(tech.status).toBe(201);
    const up = await as(leadCookie, "/api/v1/users", { body: { email: "a4@example.com", password: "a long password", role: "admin" } });
    expect(up.status).toBe(403);
    const both = await srv.api("/api/v1/users", {
      body: { email: "y@example.com", password: "a long password", role: "admin", roleId: crypto.randomUUID() },
    });
    expect(both.status).toBe(422);
  });
});
