import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Secret, TOTP } from "otpauth";
import { login, startTestServer, type TestServer } from "../testing/harness.ts";
import { LOGIN_LIMITS } from "./throttle.ts";

let srv: TestServer;
beforeAll(async () => {
  // every sign-in here comes from 127.0.0.1: only the per-account throttle is under test
  srv = await startTestServer({ loginLimits: { ...LOGIN_LIMITS, freeAddressFailures: 10_000 } });
}, 120_000);
afterAll(() => srv.stop());

const PASSWORD = "a fine long password";
/** The code of `secret` at `offsetS` seconds from now (30 s steps). */
const codeAt = (secret: string, offsetS = 0) =>
  TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: Date.now() + offsetS * 1000 });
const signIn = (email: string, totp?: string, password = PASSWORD) =>
  fetch(`${srv.url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password, ...(totp === undefined ? {} : { totp }) }),
  });
const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; details?: Record<string, string> } }).error;
const as = (cookie: string, path: string, body?: unknown) =>
  srv.api(path, { headers: { cookie }, ...(body === undefined ? {} : { body }) });

async function newUser(email: string, role = "technician"): Promise<{ id: string; cookie: string }> {
  const res = await srv.api("/api/v1/users", { body: { email, password: PASSWORD, role } });
  expect(res.status).toBe(201);
  return { id: ((await res.json()) as { id: string }).id, cookie: await login(srv.url, email, PASSWORD) };
}

/** Enrolls the cookie's user; the secret, the code that enabled it, and the recovery codes. */
async function enroll(cookie: string): Promise<{ secret: string; first: string; recoveryCodes: string[] }> {
  const setup = (await (await as(cookie, "/api/v1/auth/totp/setup", {})).json()) as { secret: string };
  const first = codeAt(setup.secret);
  const res = await as(cookie, "/api/v1/auth/totp/enable", { code: first });
  expect(res.status).toBe(200);
  return { secret: setup.secret, first, ...((await res.json()) as { recoveryCodes: string[] }) };
}

describe("two-factor sign-in (TOTP)", () => {
  test("setup gives a pending secret, stored sealed; a wrong first code does not enable; the right one answers 10 recovery codes, stored hashed", async () => {
    const { id, cookie } = await newUser("enroll@example.com");
    const res = await srv.api("/api/v1/auth/totp/setup", { headers: { cookie }, method: "POST" });
    expect(res.status).toBe(200);
    const { secret, otpauthUrl } = (await res.json()) as { secret: string; otpauthUrl: string };
    expect(otpauthUrl).toStartWith("otpauth://totp/SENTpulse:enroll%40example.com?");
    expect(otpauthUrl).toContain(`secret=${secret}`);
    const [row] = await srv.sql<{ secret_sealed: string; enabled_at: Date | null }[]>`select * from user_totp where user_id = ${id}`;
    expect(row?.secret_sealed).toStartWith("v1.");
    expect(row?.secret_sealed).not.toContain(secret);
    expect(row?.enabled_at).toBeNull();
    expect((await signIn("enroll@example.com")).status).toBe(200); // pending is not on

    const wrong = await as(cookie, "/api/v1/auth/totp/enable", { code: codeAt(secret, 600) });
    expect([wrong.status, (await errorOf(wrong)).code]).toEqual([422, "INVALID_TOTP"]);
    const ok = await as(cookie, "/api/v1/auth/totp/enable", { code: codeAt(secret) });
    const { recoveryCodes } = (await ok.json()) as { recoveryCodes: string[] };
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    const stored = await srv.sql<{ code_hash: Buffer }[]>`select code_hash from user_recovery_codes where user_id = ${id}`;
    expect(stored).toHaveLength(10);
    expect(JSON.stringify(stored)).not.toContain(recoveryCodes[0]!.replaceAll("-", ""));
    expect(await (await as(cookie, "/api/v1/auth/totp")).json()).toEqual({
      enabled: true,
      pending: false,
      recoveryCodesLeft: 10,
      requiredByOrganization: false,
    });
    expect((await as(cookie, "/api/v1/auth/totp/setup", {})).status).toBe(409);
    const audit = await srv.sql`select actor_id from audit_log where action = 'auth.totp_enabled' and target_id = ${id}`;
    expect(audit.map((a) => a.actor_id)).toEqual([id]);
  });

  test("sign-in then needs a code: none → TOTP_REQUIRED; the code → in; replayed, expired, wrong → INVALID_TOTP", async () => {
    const { cookie } = await newUser("codes@example.com");
    const { secret, first } = await enroll(cookie);
    expect(await errorOf(await signIn("codes@example.com"))).toMatchObject({ code: "TOTP_REQUIRED" });
    // the enabling code's step is spent: the same code again is a replay
    const replay = await signIn("codes@example.com", first);
    expect([replay.status, (await errorOf(replay)).code]).toEqual([401, "INVALID_TOTP"]);
    const next = codeAt(secret, 30);
    const ok = await signIn("codes@example.com", next);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("set-cookie")).toContain("sentpulse_session=");
    for (const bad of [next, codeAt(secret, -120), codeAt(secret, 600), "12345x"]) {
      const res = await signIn("codes@example.com", bad);
      expect([bad, res.status, (await errorOf(res)).code]).toEqual([bad, 401, "INVALID_TOTP"]);
    }
    // a wrong password is still the password's answer, whatever the code
    expect((await errorOf(await signIn("codes@example.com", codeAt(secret, 30), "wrong password!"))).code).toBe("INVALID_CREDENTIALS");
  });

  test("a recovery code works once (any case, dashes optional)", async () => {
    const { cookie } = await newUser("recover@example.com");
    const { recoveryCodes } = await enroll(cookie);
    const code = recoveryCodes[3]!;
    expect((await signIn("recover@example.com", code.toUpperCase().replaceAll("-", ""))).status).toBe(200);
    const again = await signIn("recover@example.com", code);
    expect([again.status, (await errorOf(again)).code]).toEqual([401, "INVALID_TOTP"]);
    expect(((await (await as(cookie, "/api/v1/auth/totp")).json()) as { recoveryCodesLeft: number }).recoveryCodesLeft).toBe(9);
    const [row] = await srv.sql`select details from audit_log where action = 'auth.login' and details->>'secondFactor' = 'recovery_code'`;
    expect(row).toBeDefined();
  });

  test("wrong codes count in the sign-in throttle: held after the free failures, even the right code then waits", async () => {
    const { cookie } = await newUser("guess@example.com");
    const { secret } = await enroll(cookie);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await signIn("guess@example.com", codeAt(secret, 600 + 30 * i))).status);
    expect(statuses.slice(0, 6)).toEqual([401, 401, 401, 401, 401, 401]);
    expect(statuses.slice(6)).toEqual([429, 429]);
    const held = await signIn("guess@example.com", codeAt(secret, 30));
    expect(held.status).toBe(429);
    expect(Number(held.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const audit = await srv.sql<{ action: string }[]>`
      select action from audit_log where actor_id = (select id from users where email = 'guess@example.com')
      and action in ('auth.totp_failed', 'auth.login_held')`;
    expect(audit.filter((a) => a.action === "auth.totp_failed")).toHaveLength(6);
    expect(audit.some((a) => a.action === "auth.login_held")).toBe(true);
  });

  test("disable needs a current code or the password; then sign-in is by password alone again", async () => {
    const { id, cookie } = await newUser("off@example.com");
    const { secret } = await enroll(cookie);
    expect((await errorOf(await as(cookie, "/api/v1/auth/totp/disable", {}))).code).toBe("CODE_OR_PASSWORD_REQUIRED");
    expect((await errorOf(await as(cookie, "/api/v1/auth/totp/disable", { password: "not my password" }))).code).toBe(
      "INVALID_CREDENTIALS",
    );
    expect((await errorOf(await as(cookie, "/api/v1/auth/totp/disable", { code: codeAt(secret, 600) }))).code).toBe("INVALID_TOTP");
    expect((await as(cookie, "/api/v1/auth/totp/disable", { code: codeAt(secret, 30) })).status).toBe(200);
    expect((await signIn("off@example.com")).status).toBe(200);
    expect(await srv.sql`select 1 from user_recovery_codes where user_id = ${id}`).toHaveLength(0);
    const [row] = await srv.sql`select secret_sealed from user_totp where user_id = ${id}`;
    expect(row?.secret_sealed).toBeNull();
    expect(await srv.sql`select 1 from audit_log where action = 'auth.totp_disabled' and actor_id = ${id}`).toHaveLength(1);
    // and by password
    await enroll(cookie);
    expect((await as(cookie, "/api/v1/auth/totp/disable", { password: PASSWORD })).status).toBe(200);
  });

  test("an API key has no second factor to manage (403 USER_ONLY)", async () => {
    const key = ((await (await srv.api("/api/v1/api-keys", { body: { name: "k", role: "admin" } })).json()) as { key: string }).key;
    const res = await srv.api("/api/v1/auth/totp/setup", { method: "POST", headers: { cookie: "", authorization: `Bearer ${key}` } });
    expect([res.status, (await errorOf(res)).code]).toEqual([403, "USER_ONLY"]);
  });

  test("an organization that requires 2FA: users without it enroll at sign-in; they cannot turn it off; an admin can reset it", async () => {
    const tech = await newUser("must@example.com");
    expect((await as(tech.cookie, "/api/v1/auth/policy", undefined)).status).toBe(200);
    const techPut = await srv.api("/api/v1/auth/policy", { method: "PUT", headers: { cookie: tech.cookie }, body: { requireTotp: true } });
    expect(techPut.status).toBe(403);
    const early = await srv.api("/api/v1/auth/policy", { method: "PUT", body: { requireTotp: true } });
    expect([early.status, (await errorOf(early)).code]).toEqual([409, "TOTP_NOT_ENABLED"]);
    await enroll(srv.cookie);
    const put = await srv.api("/api/v1/auth/policy", { method: "PUT", body: { requireTotp: true } });
    expect(await put.json()).toEqual({ requireTotp: true });
    const [audit] = await srv.sql`select details from audit_log where action = 'organization.sign_in_policy_changed'`;
    expect(audit?.details).toEqual({ before: { requireTotp: false }, after: { requireTotp: true } });

    const first = await errorOf(await signIn("must@example.com"));
    expect(first.code).toBe("TOTP_ENROLLMENT_REQUIRED");
    const secret = first.details?.secret ?? "";
    expect(first.details?.otpauthUrl).toContain(`secret=${secret}`);
    // asking again keeps the same pending secret, so a slow user can still finish
    expect((await errorOf(await signIn("must@example.com"))).details?.secret).toBe(secret);
    expect((await errorOf(await signIn("must@example.com", codeAt(secret, 600)))).code).toBe("INVALID_TOTP");
    const enrolled = await signIn("must@example.com", codeAt(secret));
    expect(enrolled.status).toBe(200);
    const body = (await enrolled.json()) as { recoveryCodes: string[] };
    expect(body.recoveryCodes).toHaveLength(10);
    expect((await errorOf(await signIn("must@example.com"))).code).toBe("TOTP_REQUIRED");
    const off = await as(tech.cookie, "/api/v1/auth/totp/disable", { password: PASSWORD });
    expect([off.status, (await errorOf(off)).code]).toEqual([403, "TOTP_REQUIRED_BY_ORGANIZATION"]);

    expect((await srv.api(`/api/v1/users/${tech.id}/totp`, { method: "DELETE" })).status).toBe(200);
    expect((await errorOf(await signIn("must@example.com"))).code).toBe("TOTP_ENROLLMENT_REQUIRED");
    expect(await srv.sql`select 1 from audit_log where action = 'user.totp_reset' and target_id = ${tech.id}`).toHaveLength(1);
    await srv.api("/api/v1/auth/policy", { method: "PUT", body: { requireTotp: false } });
  });
});
