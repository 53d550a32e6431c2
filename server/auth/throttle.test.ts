import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { LOGIN_LIMITS, LoginThrottle } from "./throttle.ts";

let srv: TestServer;
beforeAll(async () => {
  // every test here signs in from 127.0.0.1: the address limit is exercised on a server of its own below
  srv = await startTestServer({ loginLimits: { ...LOGIN_LIMITS, freeAddressFailures: 10_000 } });
}, 120_000);
afterAll(() => srv.stop());

const signIn = (email: string, password: string, cookie?: string) =>
  fetch(`${srv.url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
    body: JSON.stringify({ email, password }),
  });

async function createUser(email: string, password: string) {
  const res = await srv.api("/api/v1/users", { body: { email, password, name: "T", role: "technician" } });
  expect(res.status).toBe(201);
}

describe("sign-in throttling", () => {
  test("20 wrong passwords, then the right one: refused while held back (429, Retry-After), accepted after", async () => {
    const email = "held@example.com";
    await createUser(email, "the right password");
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await signIn(email, `wrong ${i}`)).status);
    expect(statuses.slice(0, 6)).toEqual([401, 401, 401, 401, 401, 401]);
    expect(new Set(statuses.slice(6))).toEqual(new Set([429]));
    const held = await signIn(email, "the right password");
    expect(held.status).toBe(429);
    const wait = Number(held.headers.get("retry-after"));
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(((await held.json()) as { error: { code: string } }).error.code).toBe("RATE_LIMITED");
    await Bun.sleep(wait * 1000 + 50);
    expect((await signIn(email, "the right password")).status).toBe(200);
    const audit = await srv.sql<{ action: string; details: { scope?: string } }[]>`
      select action, details from audit_log where action like 'auth.login%' and details->>'email' = ${email} or
        (action = 'auth.login_held' and actor_id = (select id from users where email = ${email})) order by id`;
    expect(audit.filter((a) => a.action === "auth.login_failed")).toHaveLength(6);
    expect(audit.filter((a) => a.action === "auth.login_held").map((a) => a.details.scope)).toEqual(["account"]);
  });

  test("each further failure doubles the hold; the attempts refused during a hold do not count", async () => {
    const email = "doubling@example.com";
    for (let i = 0; i < 6; i++) await signIn(email, "wrong");
    const holds: number[] = [];
    for (let round = 0; round < 2; round++) {
      const refused = await signIn(email, "wrong");
      expect(refused.status).toBe(429);
      const wait = Number(refused.headers.get("retry-after"));
      await Bun.sleep(wait * 1000 + 50);
      expect((await signIn(email, "wrong")).status).toBe(401);
      holds.push(Number((await signIn(email, "wrong")).headers.get("retry-after")));
    }
    expect(holds).toEqual([2, 4]);
  });

  test("an unknown e-mail is answered exactly like a known one", async () => {
    const seq = async (email: string) => {
      const out: number[] = [];
      for (let i = 0; i < 8; i++) out.push((await signIn(email, "wrong")).status);
      return out;
    };
    await createUser("known@example.com", "known password 1");
    expect(await seq("nobody-at-all@example.com")).toEqual(await seq("known@example.com"));
  });

  test("a stranger holding an account back cannot keep its owner's browser out", async () => {
    const email = "owner-browser@example.com";
    await createUser(email, "owner password 1");
    const first = await signIn(email, "owner password 1");
    const browser = (first.headers.getSetCookie() ?? []).find((c) => c.startsWith("sentpulse_browser="));
    expect(browser).toMatch(/HttpOnly; SameSite=Strict/);
    const cookie = browser?.split(";")[0] ?? "";
    for (let i = 0; i < 8; i++) await signIn(email, "stranger guess");
    expect((await signIn(email, "owner password 1")).status).toBe(429);
    expect((await signIn(email, "owner password 1", cookie)).status).toBe(200);
    // a forged or foreign browser cookie counts as no cookie
    expect((await signIn(email, "owner password 1", `${cookie.slice(0, -4)}0000`)).status).toBe(429);
  });
});

describe("sign-in throttling per address", () => {
  test("failures across many accounts from one address hold that address back, for every account", async () => {
    const other = await startTestServer();
    try {
      const attempt = (email: string) =>
        fetch(`${other.url}/api/v1/auth/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email, password: "spray" }),
        });
      for (let i = 0; i < LOGIN_LIMITS.freeAddressFailures + 1; i++) expect((await attempt(`user${i}@example.com`)).status).toBe(401);
      expect((await attempt("fresh@example.com")).status).toBe(429);
      const [held] = await other.sql<
        { n: number }[]
      >`select count(*)::int as n from audit_log where action = 'auth.login_held' and details->>'scope' = 'address'`;
      expect(held?.n).toBe(1);
    } finally {
      await other.stop();
    }
  });
});

describe("LoginThrottle", () => {
  const clock = () => {
    let t = 1_000_000;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };

  test("holds stop growing at the maximum, and old failures are forgotten", () => {
    const c = clock();
    const t = new LoginThrottle(LOGIN_LIMITS, c.now);
    const key = ["account:a@example.com"] as const;
    let last = 0;
    for (let i = 0; i < 40; i++) {
      c.advance(t.heldFor(key));
      last = t.fail(key)[0]?.holdMs ?? 0;
    }
    expect(last).toBe(LOGIN_LIMITS.maxHoldMs);
    c.advance(LOGIN_LIMITS.forgetAfterMs + 1);
    expect(t.heldFor(key)).toBe(0);
    expect(t.fail(key)).toEqual([]);
  });

  test("many addresses spraying one password: the address is held after its free failures", () => {
    const t = new LoginThrottle(LOGIN_LIMITS, clock().now);
    for (let i = 0; i < LOGIN_LIMITS.freeAddressFailures; i++) expect(t.fail([`account:u${i}@x`, "address:10.0.0.9"])).toEqual([]);
    expect(t.fail(["account:another@x", "address:10.0.0.9"]).map((h) => h.key)).toEqual(["address:10.0.0.9"]);
    expect(t.heldFor(["account:fresh@x", "address:10.0.0.9"])).toBeGreaterThan(0);
  });

  test("memory stays bounded, and held keys outlive quiet ones", () => {
    const t = new LoginThrottle({ ...LOGIN_LIMITS, maxKeys: 100, freeFailures: 0 }, clock().now);
    t.fail(["account:held@x"]);
    for (let i = 0; i < 1000; i++) t.fail([`address:${i}`]);
    expect(t.heldFor(["account:held@x"])).toBeGreaterThan(0);
    expect((t as unknown as { counters: Map<string, unknown> }).counters.size).toBeLessThanOrEqual(100);
  });
});
