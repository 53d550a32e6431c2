import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { otherOrganization } from "../testing/fixtures.ts";
import { ADMIN, login, startTestServer, type TestServer } from "../testing/harness.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
}, 120_000);
afterAll(() => srv.stop());

describe("sign-in", () => {
  test("right password sets an httpOnly session cookie and /me answers", async () => {
    const res = await fetch(`${srv.url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(ADMIN),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("set-cookie")).toMatch(/sentpulse_session=.+HttpOnly/);
    const body = (await res.json()) as { user: { email: string; role: string } };
    expect(body.user).toMatchObject({ email: ADMIN.email, role: "owner" });
    const me = await srv.api("/api/v1/auth/me");
    expect(((await me.json()) as { principal: { email: string } }).principal.email).toBe(ADMIN.email);
  });

  test("wrong password is 401 INVALID_CREDENTIALS, unknown email the same", async () => {
    for (const body of [
      { ...ADMIN, password: "nope" },
      { email: "nobody@example.com", password: "x" },
    ]) {
      const res = await fetch(`${srv.url}/api/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("INVALID_CREDENTIALS");
    }
  });

  test("bad bodies are 422 naming the field; an unparsable body is 400", async () => {
    for (const [body, status, code] of [
      ['{"email":1,"password":"x"}', 422, "VALIDATION_FAILED"],
      ['{"password":"x"}', 422, "VALIDATION_FAILED"],
      ["not json", 400, "INVALID_BODY"],
      [JSON.stringify({ email: "a@b.c", password: "x".repeat(2000) }), 422, "VALIDATION_FAILED"],
    ] as const) {
      const res = await fetch(`${srv.url}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body });
      expect(res.status).toBe(status);
      const err = ((await res.json()) as { error: { code: string; message: string } }).error;
      expect(err.code).toBe(code);
    }
  });

  test("repeated failures are rate limited with 429", async () => {
    const email = "victim@example.com";
    let last = 0;
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${srv.url}/api/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, password: `x${i}` }),
      });
      last = res.status;
    }
    expect(last).toBe(429);
  });

  test("logout ends the session", async () => {
    const cookie = await login(srv.url, ADMIN.email, ADMIN.password);
    const out = await fetch(`${srv.url}/api/v1/auth/logout`, { method: "POST", headers: { cookie } });
    expect(out.status).toBe(200);
    const me = await fetch(`${srv.url}/api/v1/auth/me`, { headers: { cookie } });
    expect(me.status).toBe(401);
  });

  test("login and logout are in the audit log", async () => {
    const rows = await srv.sql`select action from audit_log where action in ('auth.login', 'auth.logout')`;
    expect(rows.map((r) => r.action)).toEqual(expect.arrayContaining(["auth.login", "auth.logout"]));
  });
});

describe("API keys", () => {
  test("a key is shown once, works as Bearer, and stops working when revoked", async () => {
    const res = await srv.api("/api/v1/api-keys", { body: { name: "ci", role: "readonly" } });
    expect(res.status).toBe(201);
    const { id, key } = (await res.json()) as { id: string; key: string };
    expect(key).toStartWith("spk_");
    const list = (await (await srv.api("/api/v1/api-keys")).json()) as { items: Record<string, unknown>[] };
    expect(JSON.stringify(list)).not.toContain(key);
    const bearer = { authorization: `Bearer ${key}` };
    expect((await fetch(`${srv.url}/api/v1/devices`, { headers: bearer })).status).toBe(200);
    // readonly keys cannot create keys
    const forbidden = await fetch(`${srv.url}/api/v1/api-keys`, {
      method: "POST",
      headers: { ...bearer, "content-type": "application/json" },
      body: '{"name":"x"}',
    });
    expect(forbidden.status).toBe(403);
    expect((await srv.api(`/api/v1/api-keys/${id}`, { method: "DELETE" })).status).toBe(200);
    expect((await fetch(`${srv.url}/api/v1/devices`, { headers: bearer })).status).toBe(401);
  });

  test("garbage bearer tokens are 401", async () => {
    for (const value of ["Bearer ", "Bearer x", `Bearer ${"a".repeat(500)}`, "Basic abc"]) {
      expect((await fetch(`${srv.url}/api/v1/devices`, { headers: { authorization: value } })).status).toBe(401);
    }
  });

  test("another organization cannot revoke our key", async () => {
    const other = await otherOrganization(srv.sql);
    const created = (await (await srv.api("/api/v1/api-keys", { body: { name: "mine" } })).json()) as { id: string };
    const otherCookie = await login(srv.url, other.email, other.password);
    const res = await fetch(`${srv.url}/api/v1/api-keys/${created.id}`, { method: "DELETE", headers: { cookie: otherCookie } });
    expect(res.status).toBe(404);
  });
});
