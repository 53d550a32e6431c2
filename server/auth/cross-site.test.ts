import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { enrollDevice } from "../testing/fixtures.ts";
import { tableCounts } from "../testing/fixtures.ts";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { type AppRoute, appRoutes, concretePath } from "../testing/routes.ts";
import { checkCrossSite, trustedOrigins } from "./cross-site.ts";

const EVIL = "http://evil.example";
let srv: TestServer;
let deviceId: string;
let routes: AppRoute[];

beforeAll(async () => {
  srv = await startTestServer();
  deviceId = (await enrollDevice(srv, "cross-site")).deviceId;
  routes = appRoutes(srv.server.app).filter((r) => !r.path.startsWith("/api/agent/"));
}, 120_000);
afterAll(() => srv.stop());

/** Every path parameter gets the real device's id: a request that got through would have acted on it. */
const pathOf = (r: AppRoute) => concretePath(r.path, (p) => (p === "action" ? "disable" : deviceId));
const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

describe("cross-site requests with the technician's cookie", () => {
  test("a form POST from another site to every state-changing route is refused with 403 and leaves no row behind", async () => {
    const unsafe = routes.filter((r) => r.unsafe && !r.socket);
    expect(unsafe.length).toBeGreaterThan(30);
    const before = await tableCounts(srv.sql);
    for (const r of unsafe) {
      const res = await fetch(`${srv.url}${pathOf(r)}`, {
        method: r.method,
        headers: { cookie: srv.cookie, origin: EVIL, "content-type": "application/x-www-form-urlencoded" },
        body: "type=reboot&name=x&language=bash&content=id",
      });
      expect([r.method, r.path, res.status]).toEqual([r.method, r.path, 403]);
      expect(await code(res)).toBe("CROSS_SITE_REFUSED");
    }
    expect(await tableCounts(srv.sql)).toEqual(before);
  });

  test("Sec-Fetch-Site cross-site is refused even without an Origin header, same-site too", async () => {
    for (const site of ["cross-site", "same-site"]) {
      const res = await fetch(`${srv.url}/api/v1/devices/${deviceId}/commands`, {
        method: "POST",
        headers: { cookie: srv.cookie, "sec-fetch-site": site, "content-type": "application/json" },
        body: JSON.stringify({ type: "reboot", payload: {} }),
      });
      expect(res.status).toBe(403);
    }
  });

  test("a same-origin form body (not JSON) to every JSON route is refused with 415", async () => {
    const before = await tableCounts(srv.sql);
    for (const r of routes.filter((r) => r.unsafe && !r.socket && r.path.startsWith("/api/"))) {
      const res = await fetch(`${srv.url}${pathOf(r)}`, {
        method: r.method,
        headers: { cookie: srv.cookie, origin: srv.url, "content-type": "text/plain" },
        body: '{"type":"reboot","payload":{}}',
      });
      expect([r.path, res.status]).toEqual([r.path, 415]);
      expect(await code(res)).toBe("UNSUPPORTED_MEDIA_TYPE");
    }
    expect(await tableCounts(srv.sql)).toEqual(before);
  });

  test("every browser socket refuses a foreign Origin before upgrading, and opens for our own", async () => {
    const sockets = routes.filter((r) => r.socket);
    expect(sockets.map((r) => r.path).sort()).toEqual(["/api/v1/devices/:id/terminal", "/api/v1/live"]);
    const before = await tableCounts(srv.sql);
    for (const r of sockets) {
      const url = `${srv.url.replace("http", "ws")}${pathOf(r)}`;
      const opened = (origin: string) =>
        new Promise<boolean>((resolve) => {
          const ws = new WebSocket(url, { headers: { cookie: srv.cookie, origin } } as unknown as string[]);
          ws.onopen = () => {
            ws.close();
            resolve(true);
          };
          ws.onerror = () => resolve(false);
        });
      expect([r.path, await opened(EVIL)]).toEqual([r.path, false]);
      if (r.path === "/api/v1/live") expect(await opened(srv.url)).toBe(true);
    }
    // the refused terminal left no session row behind
    expect(await tableCounts(srv.sql)).toEqual(before);
    const res = await fetch(`${srv.url}/api/v1/live`, {
      headers: {
        cookie: srv.cookie,
        origin: EVIL,
        upgrade: "websocket",
        connection: "Upgrade",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      },
    });
    expect(res.status).toBe(403);
    expect(await code(res)).toBe("CROSS_SITE_REFUSED");
  });

  test("the login form cannot be posted from another site (login CSRF)", async () => {
    const res = await fetch(`${srv.url}/api/v1/auth/login`, {
      method: "POST",
      headers: { origin: EVIL, "content-type": "application/json" },
      body: JSON.stringify({ email: "admin@example.com", password: "correct horse battery" }),
    });
    expect(res.status).toBe(403);
  });

  test("our own pages, programs without browser headers, bearer keys and allowlisted origins pass", async () => {
    const ok = async (headers: Record<string, string>) =>
      (
        await fetch(`${srv.url}/api/v1/scripts`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify({ name: `s-${crypto.randomUUID()}`, language: "bash", content: "true" }),
        })
      ).status;
    expect(await ok({ cookie: srv.cookie, origin: srv.url, "sec-fetch-site": "same-origin" })).toBe(201);
    expect(await ok({ cookie: srv.cookie })).toBe(201);
    const key = ((await (await srv.api("/api/v1/api-keys", { body: { name: "x" } })).json()) as { key: string }).key;
    expect(await ok({ authorization: `Bearer ${key}`, origin: EVIL })).toBe(201);
  });
});

describe("checkCrossSite", () => {
  const trusted = trustedOrigins({ publicUrl: "https://rmm.example.com", allowedOrigins: ["https://rmm2.example.com"] });
  const req = (method: string, headers: Record<string, string>, path = "/api/v1/scripts") =>
    new Request(`http://rmm.internal:8080${path}`, { method, headers });

  test("decides from Sec-Fetch-Site, then Origin against the host, then lets header-less programs through", () => {
    const verdict = (method: string, headers: Record<string, string>, path?: string) =>
      checkCrossSite(req(method, headers, path), trusted).ok;
    expect(verdict("GET", { origin: EVIL })).toBe(true);
    expect(verdict("POST", { origin: EVIL })).toBe(false);
    expect(verdict("POST", { origin: "null" })).toBe(false);
    expect(verdict("POST", { origin: "https://rmm2.example.com", "sec-fetch-site": "cross-site" })).toBe(true);
    expect(verdict("POST", { origin: "https://rmm.example.com" })).toBe(true);
    expect(verdict("POST", { origin: "http://rmm.internal:8080", host: "rmm.internal:8080" })).toBe(true);
    expect(verdict("POST", { "sec-fetch-site": "none" })).toBe(true);
    expect(verdict("POST", {})).toBe(true);
    expect(verdict("GET", { upgrade: "websocket", origin: EVIL })).toBe(false);
    expect(verdict("POST", { origin: EVIL }, "/api/agent/v1/beacon")).toBe(true);
    expect(verdict("DELETE", { origin: EVIL, authorization: "Bearer spk_x" })).toBe(true);
  });

  test("non-JSON bodies on the API are 415, JSON variants pass", () => {
    const status = (type: string) => {
      const v = checkCrossSite(req("POST", { "content-type": type, "content-length": "2" }), trusted);
      return v.ok ? 200 : v.status;
    };
    expect(status("application/json")).toBe(200);
    expect(status("application/json; charset=utf-8")).toBe(200);
    expect(status("application/merge-patch+json")).toBe(200);
    expect(status("text/plain")).toBe(415);
    expect(status("multipart/form-data; boundary=x")).toBe(415);
    expect(status("application/jsonx")).toBe(415);
  });
});
