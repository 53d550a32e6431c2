import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { login, startTestServer, type TestServer, waitFor } from "../testing/harness.ts";

/**
 * Resolved principals are reused for a second per session or key; a state change served by this node
 * empties the cache before its answer leaves, so revocation, disabling and narrowing apply at the very
 * next request. A change made elsewhere (another node, the database) applies within the second.
 */
let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
}, 120_000);
afterAll(() => srv.stop());

const get = (path: string, headers: Record<string, string>) => fetch(`${srv.url}${path}`, { headers });

describe("the principal cache", () => {
  test("a revoked API key is refused at the next request", async () => {
    const made = (await (await srv.api("/api/v1/api-keys", { body: { name: "poller", role: "readonly" } })).json()) as {
      id: string;
      key: string;
    };
    const auth = { authorization: `Bearer ${made.key}` };
    for (let i = 0; i < 3; i++) expect((await get("/api/v1/devices", auth)).status).toBe(200);
    expect((await fetch(`${srv.url}/api/v1/api-keys/${made.id}`, { method: "DELETE", headers: { cookie: srv.cookie } })).status).toBe(200);
    expect((await get("/api/v1/devices", auth)).status).toBe(401);
  });

  test("a disabled user is refused, and a narrowed role applies, at the next request", async () => {
    const made = (await (
      await srv.api("/api/v1/users", { body: { email: "tech@example.com", password: "a long password", role: "technician" } })
    ).json()) as { id: string };
    const cookie = await login(srv.url, "tech@example.com", "a long password");
    const me = async () => (await (await get("/api/v1/auth/me", { cookie })).json()) as { principal: { permissions: string[] } };
    expect((await me()).principal.permissions).toContain("device:terminal");
    const patch = (body: unknown) =>
      fetch(`${srv.url}/api/v1/users/${made.id}`, {
        method: "PATCH",
        headers: { cookie: srv.cookie, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await patch({ role: "viewer" })).status).toBe(200);
    expect((await me()).principal.permissions).not.toContain("device:terminal");
    expect((await patch({ disabled: true })).status).toBe(200);
    expect((await get("/api/v1/auth/me", { cookie })).status).toBe(401);
  });

  test("a key revoked behind the server's back (another node, the database) is refused within the second", async () => {
    const made = (await (await srv.api("/api/v1/api-keys", { body: { name: "elsewhere", role: "readonly" } })).json()) as {
      id: string;
      key: string;
    };
    const auth = { authorization: `Bearer ${made.key}` };
    expect((await get("/api/v1/devices", auth)).status).toBe(200);
    await srv.sql`update api_keys set revoked_at = now() where id = ${made.id}`;
    // the cache holds a principal at most a second: the key is refused once that passes
    await waitFor("the key refused", async () => (await get("/api/v1/devices", auth)).status === 401 || undefined, 10_000);
  });
});
