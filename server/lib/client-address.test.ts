import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { loadConfig } from "../config.ts";
import { ADMIN, startTestServer, type TestServer } from "../testing/harness.ts";
import { trustProxies } from "./client-address.ts";

/** Behind a load balancer: the client's address from X-Forwarded-For, only when the peer is a trusted proxy. */
let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({ trustedProxies: ["loopback"] });
}, 120_000);
afterAll(() => srv.stop());

const signIn = (forwardedFor?: string) =>
  fetch(`${srv.url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(forwardedFor ? { "x-forwarded-for": forwardedFor } : {}) },
    body: JSON.stringify({ email: ADMIN.email, password: ADMIN.password }),
  });

describe("trusted proxies (SENTPULSE_TRUSTED_PROXIES)", () => {
  test("through a trusted balancer the session and the audit log carry the client's address", async () => {
    const res = await signIn("203.0.113.7");
    expect(res.status).toBe(200);
    const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const sessions = (await (await fetch(`${srv.url}/api/v1/auth/sessions`, { headers: { cookie } })).json()) as {
      items: { ip: string; current: boolean }[];
    };
    expect(sessions.items.find((s) => s.current)?.ip).toBe("203.0.113.7");
    const [audit] = await srv.sql<{ ip: string }[]>`
      select ip from audit_log where action = 'auth.login' order by created_at desc limit 1`;
    expect(audit?.ip).toBe("203.0.113.7");
  });

  test("an address the client adds itself does not pass the balancer's: the nearest untrusted one counts", async () => {
    // the client sent "198.51.100.1"; the balancer appended the address it saw, 203.0.113.9
    const res = await signIn("198.51.100.1, 203.0.113.9");
    const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const sessions = (await (await fetch(`${srv.url}/api/v1/auth/sessions`, { headers: { cookie } })).json()) as {
      items: { ip: string; current: boolean }[];
    };
    expect(sessions.items.find((s) => s.current)?.ip).toBe("203.0.113.9");
  });

  test("a peer that is not a trusted proxy is taken as it is, whatever it forwards", () => {
    const server = {
      requestIP: (_: Request) => ({ address: "192.0.2.10", family: "IPv4", port: 5000 }),
    };
    trustProxies(server, ["10.0.0.0/8"]);
    const req = new Request("http://x/", { headers: { "x-forwarded-for": "203.0.113.7" } });
    expect(server.requestIP(req)?.address).toBe("192.0.2.10");
    const behind = { requestIP: (_: Request) => ({ address: "10.1.2.3", family: "IPv4", port: 5000 }) };
    trustProxies(behind, ["10.0.0.0/8"]);
    expect(behind.requestIP(req)?.address).toBe("203.0.113.7");
    expect(behind.requestIP(new Request("http://x/"))?.address).toBe("10.1.2.3");
  });

  test("a bad proxy list is refused at start with a message naming the setting", () => {
    expect(() => loadConfig({}, { SENTPULSE_TRUSTED_PROXIES: "10.0.0.0/8,not-an-address" })).toThrow(/SENTPULSE_TRUSTED_PROXIES/);
    expect(loadConfig({}, { SENTPULSE_TRUSTED_PROXIES: "10.0.0.0/8, loopback" }).trustedProxies).toEqual(["10.0.0.0/8", "loopback"]);
    expect(loadConfig({}, {}).trustedProxies).toEqual([]);
  });
});
