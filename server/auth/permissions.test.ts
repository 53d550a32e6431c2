import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { tableCounts } from "../testing/fixtures.ts";
import { login, startTestServer, type TestServer } from "../testing/harness.ts";
import { type AppRoute, appRoutes, concretePath } from "../testing/routes.ts";
import { PERMISSIONS, can } from "./permissions.ts";
import { BUILT_IN } from "./roles.ts";

/**
 * The permission matrix, generated from the app's own route list: every route declares what it
 * needs (the auth macro writes it into the route's `x-permission`), and a viewer is refused every
 * state change before anything happens.
 */
let srv: TestServer;
let routes: AppRoute[];
const needs = new Map<string, string | undefined>();

beforeAll(async () => {
  srv = await startTestServer();
  routes = appRoutes(srv.server.app);
  for (const r of srv.server.app.routes) {
    const detail = (r.hooks as { detail?: Record<string, unknown> } | undefined)?.detail;
    const method = String(r.method).toUpperCase() === "WS" ? "GET" : String(r.method).toUpperCase();
    needs.set(`${method} ${r.path.length > 1 ? r.path.replace(/\/$/, "") : r.path}`, detail?.["x-permission"] as string | undefined);
  }
}, 120_000);
afterAll(() => srv.stop());

const needed = (r: AppRoute) => needs.get(`${r.method} ${r.path}`);

describe("permissions", () => {
  test("every route of the app declares a permission, unless it is public", () => {
    expect(routes.length).toBeGreaterThan(60);
    const missing = routes.filter((r) => !r.public && !needed(r)).map((r) => `${r.method} ${r.path}`);
    expect(missing).toEqual([]);
    const known = new Set<string>([...PERMISSIONS, "signed-in"]);
    const unknown = routes
      .filter((r) => !r.public)
      .flatMap((r) =>
        (needed(r) ?? "")
          .split(" | ")
          .filter((p) => !known.has(p))
          .map((p) => `${r.method} ${r.path}: ${p}`),
      );
    expect(unknown).toEqual([]);
  });

  test("built-in roles nest: viewer ⊂ technician ⊂ admin ⊂ owner; only the owner manages tenancy", () => {
    const subset = (a: readonly string[], b: readonly string[]) => a.every((p) => b.includes(p));
    expect(subset(BUILT_IN.readonly, BUILT_IN.technician)).toBe(true);
    expect(subset(BUILT_IN.technician, BUILT_IN.admin)).toBe(true);
    expect(subset(BUILT_IN.admin, BUILT_IN.owner)).toBe(true);
    expect(BUILT_IN.owner).toEqual(PERMISSIONS);
    expect(can({ permissions: BUILT_IN.admin }, "tenancy:manage")).toBe(false);
    expect(can({ permissions: BUILT_IN.readonly }, "device:view")).toBe(true);
    expect(can({ permissions: BUILT_IN.readonly }, "device:manage")).toBe(false);
  });

  test("a viewer on every state change → 403 FORBIDDEN before any effect; nothing changes", async () => {
    const email = `viewer-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const made = await srv.api("/api/v1/users", { body: { email, password: "a long password", role: "viewer" } });
    expect(made.status).toBe(201);
    const cookie = await login(srv.url, email, "a long password");
    // the caller's own account (sign out, two-factor, password, own sessions) is the viewer's to change,
    // and a socket that needs only device:view is a read-only stream (the live feed)
    const unsafe = routes.filter((r) => r.unsafe && !r.public && needed(r) !== "signed-in" && !(r.socket && needed(r) === "device:view"));
    expect(unsafe.length).toBeGreaterThan(40);
    const before = await tableCounts(srv.sql);
    const wrong: string[] = [];
    for (const r of unsafe) {
      const path = concretePath(r.path, (p) => (p === "action" ? "disable" : crypto.randomUUID()));
      const res = await fetch(`${srv.url}${path}`, {
        method: r.method,
        headers: r.socket
          ? {
              cookie,
              upgrade: "websocket",
              connection: "Upgrade",
              "sec-websocket-version": "13",
              "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
            }
          : { cookie, "content-type": "application/json" },
        body: r.method === "GET" || r.method === "HEAD" ? undefined : "{}",
      });
      const body = (await res.json().catch(() => ({}))) as { error?: { code: string } };
      if (res.status !== 403 || body.error?.code !== "FORBIDDEN") wrong.push(`${r.method} ${r.path} → ${res.status}`);
    }
    expect(wrong).toEqual([]);
    expect(await tableCounts(srv.sql)).toEqual(before);
  });

  test("an API key missing a scope → 403 on every route that needs it; its scopes cannot exceed its role", async () => {
    const created = await srv.api("/api/v1/api-keys", { body: { name: "read-only CI", role: "technician", scopes: ["device:view"] } });
    expect(created.status).toBe(201);
    const { key, scopes } = (await created.json()) as { key: string; scopes: string[] };
    expect(scopes).toEqual(["device:view"]);
    const bearer = { authorization: `Bearer ${key}` };
    expect((await fetch(`${srv.url}/api/v1/devices`, { headers: bearer })).status).toBe(200);

    const outOfScope = routes.filter((r) => {
      const need = needed(r) as string | string[] | undefined;
      const list = Array.isArray(need) ? need : [need];
      return !r.public && !r.socket && need !== undefined && !list.includes("device:view") && !list.includes("signed-in");
    });
    expect(outOfScope.length).toBeGreaterThan(40);
    const before = await tableCounts(srv.sql);
    const wrong: string[] = [];
    for (const r of outOfScope) {
      const path = concretePath(r.path, (p) => (p === "action" ? "disable" : crypto.randomUUID()));
      const res = await fetch(`${srv.url}${path}`, {
        method: r.method,
        headers: { ...bearer, "content-type": "application/json" },
        body: r.method === "GET" || r.method === "HEAD" ? undefined : "{}",
      });
      if (res.status !== 403) wrong.push(`${r.method} ${r.path} → ${res.status}`);
    }
    expect(wrong).toEqual([]);
    expect(await tableCounts(srv.sql)).toEqual(before);

    const beyond = await srv.api("/api/v1/api-keys", { body: { name: "x", role: "readonly", scopes: ["device:manage"] } });
    expect(beyond.status).toBe(422);
    expect((await srv.api("/api/v1/api-keys", { body: { name: "x", scopes: ["device:fly"] } })).status).toBe(422);
  });
});
