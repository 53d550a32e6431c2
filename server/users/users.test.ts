import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { otherOrganization } from "../testing/fixtures.ts";
import { login, startTestServer, type TestServer } from "../testing/harness.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
}, 120_000);
afterAll(() => srv.stop());

type User = { id: string; email: string; role: string; disabledAt: string | null };

describe("users", () => {
  test("an owner creates a technician who can sign in; the password is stored as argon2id", async () => {
    const res = await srv.api("/api/v1/users", {
      body: { email: "tech@example.com", name: "Tech", role: "technician", password: "a long password" },
    });
    expect(res.status).toBe(201);
    const user = (await res.json()) as User;
    expect(user).toMatchObject({ email: "tech@example.com", role: "technician", disabledAt: null });
    expect(JSON.stringify(user)).not.toContain("password");
    const [row] = await srv.sql`select password_hash from users where id = ${user.id}`;
    expect(row?.password_hash).toStartWith("$argon2id$");
    await login(srv.url, "tech@example.com", "a long password");
    const list = (await (await srv.api("/api/v1/users")).json()) as { items: User[] };
    expect(list.items.map((u) => u.email)).toContain("tech@example.com");
  });

  test("bad bodies and duplicate emails are refused", async () => {
    for (const body of [
      { email: "x", role: "admin", password: "long enough pw" },
      { email: "a@b.co", role: "god", password: "long enough pw" },
      { email: "a@b.co", role: "admin", password: "short" },
    ]) {
      expect((await srv.api("/api/v1/users", { body })).status).toBe(422);
    }
    const dup = await srv.api("/api/v1/users", { body: { email: "TECH@example.com", role: "readonly", password: "a long password" } });
    expect(dup.status).toBe(409);
  });

  test("a technician cannot manage users; an admin cannot create an owner", async () => {
    const techCookie = await login(srv.url, "tech@example.com", "a long password");
    expect((await fetch(`${srv.url}/api/v1/users`, { headers: { cookie: techCookie } })).status).toBe(403);
    await srv.api("/api/v1/users", { body: { email: "admin2@example.com", role: "admin", password: "a long password" } });
    const adminCookie = await login(srv.url, "admin2@example.com", "a long password");
    const res = await fetch(`${srv.url}/api/v1/users`, {
      method: "POST",
      headers: { cookie: adminCookie, "content-type": "application/json" },
      body: JSON.stringify({ email: "boss@example.com", role: "owner", password: "a long password" }),
    });
    expect(res.status).toBe(403);
  });

  test("disabling a user ends their sessions; changes are audited; nobody disables themselves", async () => {
    const list = (await (await srv.api("/api/v1/users")).json()) as { items: User[] };
    const tech = list.items.find((u) => u.email === "tech@example.com")!;
    const techCookie = await login(srv.url, "tech@example.com", "a long password");
    const res = await srv.api(`/api/v1/users/${tech.id}`, { method: "PATCH", body: { disabled: true } });
    expect(((await res.json()) as User).disabledAt).not.toBeNull();
    expect((await fetch(`${srv.url}/api/v1/auth/me`, { headers: { cookie: techCookie } })).status).toBe(401);
    const again = await fetch(`${srv.url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "tech@example.com", password: "a long password" }),
    });
    expect(again.status).toBe(401);
    const [audit] =
      await srv.sql`select count(*)::int as n from audit_log where target_id = ${tech.id} and action in ('user.created', 'user.updated')`;
    expect(audit?.n).toBe(2);
    const me = list.items.find((u) => u.email === "admin@example.com")!;
    expect((await srv.api(`/api/v1/users/${me.id}`, { method: "PATCH", body: { disabled: true } })).status).toBe(400);
  });

  test("another organization's users are invisible and untouchable", async () => {
    const other = await otherOrganization(srv.sql);
    const [u] = await srv.sql`select id from users where organization_id = ${other.organizationId}`;
    expect((await srv.api(`/api/v1/users/${u?.id}`, { method: "PATCH", body: { role: "readonly" } })).status).toBe(404);
    const list = (await (await srv.api("/api/v1/users")).json()) as { items: User[] };
    expect(list.items.map((x) => x.email)).not.toContain(other.email);
  });
});
