import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { login, startTestServer, type TestServer } from "../testing/harness.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
}, 120_000);
afterAll(() => srv.stop());

type Session = { id: string; createdAt: string; lastUsedAt: string; ip: string | null; userAgent: string | null; current: boolean };
const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string } }).error;
const me = (cookie: string) => fetch(`${srv.url}/api/v1/auth/me`, { headers: { cookie } });
/** Signs in with a given browser name; the session cookie. */
async function signIn(email: string, password: string, userAgent: string): Promise<string> {
  const res = await fetch(`${srv.url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": userAgent },
    body: JSON.stringify({ email, password }),
  });
  expect(res.status).toBe(200);
  return (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
}
const sessionsOf = async (cookie: string) =>
  ((await (await srv.api("/api/v1/auth/sessions", { headers: { cookie } })).json()) as { items: Session[] }).items;

describe("sessions", () => {
  test("a user sees their sessions (address, browser, current) and signs one out: its cookie is refused after", async () => {
    await srv.api("/api/v1/users", { body: { email: "two@example.com", password: "two browsers here", role: "technician" } });
    const laptop = await signIn("two@example.com", "two browsers here", "Laptop Firefox");
    const phone = await signIn("two@example.com", "two browsers here", "Phone Safari");
    const items = await sessionsOf(laptop);
    expect(items.map((s) => [s.userAgent, s.current]).sort()).toEqual([
      ["Laptop Firefox", true],
      ["Phone Safari", false],
    ]);
    expect(items.every((s) => s.ip === "127.0.0.1" && s.createdAt && s.lastUsedAt)).toBe(true);
    const phoneId = items.find((s) => !s.current)!.id;
    expect((await srv.api(`/api/v1/auth/sessions/${phoneId}`, { method: "DELETE", headers: { cookie: laptop } })).status).toBe(200);
    expect((await me(phone)).status).toBe(401);
    expect((await me(laptop)).status).toBe(200);
    const [audit] = await srv.sql`select actor_name from audit_log where action = 'auth.session_revoked' and target_id = ${phoneId}`;
    expect(audit?.actor_name).toBe("two@example.com");
  });

  test("another user's session id is 404, and that session lives on", async () => {
    const adminSession = (await sessionsOf(srv.cookie)).find((s) => s.current)!;
    const other = await signIn("two@example.com", "two browsers here", "x");
    const res = await srv.api(`/api/v1/auth/sessions/${adminSession.id}`, { method: "DELETE", headers: { cookie: other } });
    expect([res.status, (await errorOf(res)).code]).toEqual([404, "SESSION_NOT_FOUND"]);
    expect((await me(srv.cookie)).status).toBe(200);
  });

  test("an admin ends every session of a user; a technician may not", async () => {
    const cookie = await signIn("two@example.com", "two browsers here", "y");
    const [user] = await srv.sql<{ id: string }[]>`select id from users where email = 'two@example.com'`;
    const byTech = await srv.api(`/api/v1/users/${user!.id}/sessions`, { method: "DELETE", headers: { cookie } });
    expect(byTech.status).toBe(403);
    expect((await srv.api(`/api/v1/users/${user!.id}/sessions`, { method: "DELETE" })).status).toBe(200);
    expect((await me(cookie)).status).toBe(401);
    expect(await srv.sql`select 1 from sessions where user_id = ${user!.id}`).toHaveLength(0);
    expect(await srv.sql`select 1 from audit_log where action = 'user.sessions_ended' and target_id = ${user!.id}`).toHaveLength(1);
  });

  test("an API key has no sessions (403 USER_ONLY)", async () => {
    const key = ((await (await srv.api("/api/v1/api-keys", { body: { name: "k" } })).json()) as { key: string }).key;
    const res = await fetch(`${srv.url}/api/v1/auth/sessions`, { headers: { authorization: `Bearer ${key}` } });
    expect([res.status, (await errorOf(res)).code]).toEqual([403, "USER_ONLY"]);
  });
});

describe("password policy", () => {
  test("new users: too short, the e-mail, a common password or one repeated character → 422 with its code; nothing stored", async () => {
    for (const [password, code] of [
      ["short pass", "PASSWORD_TOO_SHORT"],
      ["policy.person@example.com", "PASSWORD_IS_EMAIL"],
      ["Policy.Person", "PASSWORD_IS_EMAIL"],
      ["Password1234", "PASSWORD_TOO_COMMON"],
      ["qwertyuiop123", "PASSWORD_TOO_COMMON"],
      ["aaaaaaaaaaaaaaaa", "PASSWORD_TOO_COMMON"],
    ] as const) {
      const res = await srv.api("/api/v1/users", { body: { email: "policy.person@example.com", password, role: "readonly" } });
      expect([password, res.status, (await errorOf(res)).code]).toEqual([password, 422, code]);
    }
    expect(await srv.sql`select 1 from users where email = 'policy.person@example.com'`).toHaveLength(0);
  });

  test("changing one's password: the current one is checked, the policy applies, other sessions end", async () => {
    await srv.api("/api/v1/users", { body: { email: "mover@example.com", password: "first password ok", role: "technician" } });
    const here = await signIn("mover@example.com", "first password ok", "here");
    const elsewhere = await signIn("mover@example.com", "first password ok", "elsewhere");
    const change = (currentPassword: string, newPassword: string) =>
      srv.api("/api/v1/auth/password", { headers: { cookie: here }, body: { currentPassword, newPassword } });
    expect((await errorOf(await change("not it at all", "second password ok"))).code).toBe("INVALID_CREDENTIALS");
    expect((await errorOf(await change("first password ok", "too short"))).code).toBe("PASSWORD_TOO_SHORT");
    expect((await errorOf(await change("first password ok", "MOVER@example.com"))).code).toBe("PASSWORD_IS_EMAIL");
    expect((await errorOf(await change("first password ok", "letmein12345"))).code).toBe("PASSWORD_TOO_COMMON");
    expect((await change("first password ok", "second password ok")).status).toBe(200);
    expect((await me(here)).status).toBe(200);
    expect((await me(elsewhere)).status).toBe(401);
    await login(srv.url, "mover@example.com", "second password ok");
    const [audit] = await srv.sql`select details from audit_log where action = 'auth.password_changed'`;
    expect(audit?.details).toEqual({ sessionsEnded: 1 });
  });
});
