import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { otherOrganization } from "../testing/fixtures.ts";
import { login, startTestServer, type TestServer } from "../testing/harness.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
}, 120_000);
afterAll(() => srv.stop());

interface Created {
  id: string;
  key: string;
  role: string;
  roleId: string | null;
  scopes: string[] | null;
  clientIds: string[] | null;
  rotatedFrom: string | null;
  expiresAt: string | null;
}
async function createKey(body: Record<string, unknown>, status = 201): Promise<Created> {
  const res = await srv.api("/api/v1/api-keys", { body });
  expect([res.status, res.status === status ? "" : await res.text()]).toEqual([status, ""]);
  return res.json() as never;
}
const asKey = (key: string, path: string, init: RequestInit = {}) =>
  fetch(`${srv.url}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...init.headers } });
const me = async (key: string) =>
  (
    (await (await asKey(key, "/api/v1/auth/me")).json()) as {
      principal: { permissions: string[]; clientIds: string[] | null; roleId: string | null };
    }
  ).principal;
const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

describe("what a key holds", () => {
  test("a custom role's permissions, narrowed by scopes; the role cannot be deleted while a live key holds it", async () => {
    const role = await srv.api("/api/v1/roles", {
      body: { name: "Alert desk", permissions: ["device:view", "alert:manage", "audit:view"] },
    });
    const roleId = ((await role.json()) as { id: string }).id;
    const k = await createKey({ name: "alert bot", roleId });
    expect(k).toMatchObject({ role: "readonly", roleId, scopes: null, clientIds: null });
    expect((await me(k.key)).permissions.sort()).toEqual(["alert:manage", "audit:view", "device:view"]);
    expect((await asKey(k.key, "/api/v1/audit")).status).toBe(200);
    expect((await asKey(k.key, "/api/v1/clients", { method: "POST", body: JSON.stringify({ name: "x" }) })).status).toBe(403);

    const narrow = await createKey({ name: "alert bot, read only", roleId, scopes: ["device:view"] });
    expect((await me(narrow.key)).permissions).toEqual(["device:view"]);
    expect((await asKey(narrow.key, "/api/v1/audit")).status).toBe(403);
    const beyond = await srv.api("/api/v1/api-keys", { body: { name: "x", roleId, scopes: ["device:terminal"] } });
    expect(beyond.status).toBe(422);

    const busy = await srv.api(`/api/v1/roles/${roleId}`, { method: "DELETE" });
    expect([busy.status, await errorCode(busy)]).toEqual([409, "ROLE_IN_USE"]);
    for (const id of [k.id, narrow.id]) expect((await srv.api(`/api/v1/api-keys/${id}`, { method: "DELETE" })).status).toBe(200);
    expect((await srv.api(`/api/v1/roles/${roleId}`, { method: "DELETE" })).status).toBe(200);
    expect((await asKey(k.key, "/api/v1/auth/me")).status).toBe(401);
  });

  test("a key limited to clients keeps only client-level permissions and sees only those clients' devices", async () => {
    const clientA = ((await (await srv.api("/api/v1/clients", { body: { name: "Key client A" } })).json()) as { id: string }).id;
    const k = await createKey({ name: "client A sync", role: "admin", clientIds: [clientA] });
    const p = await me(k.key);
    expect(p.clientIds).toEqual([clientA]);
    expect(p.permissions).not.toContain("users:manage");
    expect(p.permissions).toContain("device:manage");
    const list = (await (await asKey(k.key, "/api/v1/devices")).json()) as { items: unknown[] };
    expect(list.items).toEqual([]); // the seeded devices are in the default client
    expect((await asKey(k.key, "/api/v1/api-keys")).status).toBe(403);

    const orgWide = await srv.api("/api/v1/api-keys", { body: { name: "x", role: "admin", clientIds: [clientA], scopes: ["audit:view"] } });
    expect(orgWide.status).toBe(422);
  });

  test("bad grants: another organization's client or role → 404; both role and roleId → 422; above the caller → 403", async () => {
    const other = await otherOrganization(srv.sql);
    const [theirClient] = await srv.sql<{ id: string }[]>`select id from clients where organization_id = ${other.organizationId}`;
    const r1 = await srv.api("/api/v1/api-keys", { body: { name: "x", clientIds: [theirClient!.id] } });
    expect([r1.status, await errorCode(r1)]).toEqual([404, "CLIENT_NOT_FOUND"]);
    const r2 = await srv.api("/api/v1/api-keys", { body: { name: "x", roleId: crypto.randomUUID() } });
    expect([r2.status, await errorCode(r2)]).toEqual([404, "ROLE_NOT_FOUND"]);
    const r3 = await srv.api("/api/v1/api-keys", { body: { name: "x", role: "admin", roleId: crypto.randomUUID() } });
    expect(r3.status).toBe(422);
    for (const body of [
      { name: "x", clientIds: [] },
      { name: "x", clientIds: ["not-a-uuid"] },
      { name: "x", scopes: ["device:fly"] },
    ])
      expect((await srv.api("/api/v1/api-keys", { body })).status).toBe(422);

    // a user who manages users but holds no terminal permission cannot mint a technician key (which has it)
    const role = await srv.api("/api/v1/roles", { body: { name: "Key clerk", permissions: ["device:view", "users:manage"] } });
    const roleId = ((await role.json()) as { id: string }).id;
    expect((await srv.api("/api/v1/users", { body: { email: "clerk@example.com", password: "a long password", roleId } })).status).toBe(
      201,
    );
    const cookie = await login(srv.url, "clerk@example.com", "a long password");
    const asClerk = (body: unknown) =>
      fetch(`${srv.url}/api/v1/api-keys`, {
        method: "POST",
        headers: { cookie, "content-type": "application/json", origin: srv.url },
        body: JSON.stringify(body),
      });
    const high = await asClerk({ name: "x", role: "technician" });
    expect([high.status, await errorCode(high)]).toEqual([403, "ROLE_TOO_HIGH"]);
    expect((await asClerk({ name: "viewer key", role: "readonly" })).status).toBe(201);
    expect((await asClerk({ name: "narrowed", role: "technician", scopes: ["device:view"] })).status).toBe(201);
  });
});

describe("rotation", () => {
  test("a new key with the same settings; the old one stops at once, or after its grace period", async () => {
    const clientA = ((await (await srv.api("/api/v1/clients", { body: { name: "Rotation client" } })).json()) as { id: string }).id;
    const old = await createKey({ name: "billing", role: "technician", scopes: ["device:view"], clientIds: [clientA], expiresInDays: 30 });
    const res = await srv.api(`/api/v1/api-keys/${old.id}/rotate`, { body: { graceHours: 2 } });
    expect(res.status).toBe(201);
    const fresh = (await res.json()) as Created;
    expect(fresh.key).not.toBe(old.key);
    expect(fresh).toMatchObject({
      role: "technician",
      scopes: ["device:view"],
      clientIds: [clientA],
      rotatedFrom: old.id,
      expiresAt: old.expiresAt,
    });
    expect((await asKey(fresh.key, "/api/v1/auth/me")).status).toBe(200);
    expect((await asKey(old.key, "/api/v1/auth/me")).status).toBe(200); // within its grace period
    const [row] = await srv.sql<{ expiresAt: Date }[]>`select expires_at as "expiresAt" from api_keys where id = ${old.id}`;
    expect(Math.abs(row!.expiresAt.getTime() - (Date.now() + 2 * 3_600_000))).toBeLessThan(60_000);

    const again = await srv.api(`/api/v1/api-keys/${fresh.id}/rotate`, { body: {} });
    expect(again.status).toBe(201);
    expect((await asKey(fresh.key, "/api/v1/auth/me")).status).toBe(401); // no grace: revoked now
    const audit = await srv.sql<{ action: string }[]>`
      select action from audit_log where target_id in (${old.id}, ${fresh.id}) and action = 'api_key.rotated'`;
    expect(audit.length).toBe(2);
    expect((await srv.api(`/api/v1/api-keys/${fresh.id}/rotate`, { body: {} })).status).toBe(404); // revoked keys do not rotate
    expect((await srv.api(`/api/v1/api-keys/${old.id}/rotate`, { body: { graceHours: 500 } })).status).toBe(422);
  });
});
