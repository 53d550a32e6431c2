import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { tableCounts } from "./testing/fixtures.ts";
import { startTestServer, type TestServer } from "./testing/harness.ts";
import { type AppRoute, appRoutes, concretePath } from "./testing/routes.ts";

let srv: TestServer;
let routes: AppRoute[];
beforeAll(async () => {
  srv = await startTestServer();
  // logout would end the session the other requests use
  routes = appRoutes(srv.server.app).filter((r) => r.unsafe && !r.socket && r.path !== "/api/v1/auth/logout");
}, 120_000);
afterAll(() => srv.stop());

const pathOf = (r: AppRoute) =>
  concretePath(r.path, (p) => (p === "action" ? "disable" : p === "pid" ? "1234" : p === "name" ? "cron" : crypto.randomUUID()));
const send = (r: AppRoute, body: string | Uint8Array<ArrayBuffer>) =>
  fetch(`${srv.url}${pathOf(r)}`, { method: r.method, headers: { cookie: srv.cookie, "content-type": "application/json" }, body });
const code = async (res: Response) => ((await res.json()) as { error?: { code?: unknown } }).error?.code;

describe("bad bodies on every state-changing route, generated from the app's route list", () => {
  test("malformed JSON → 400 INVALID_BODY on every route that takes a body; the others ignore it; nothing stored", async () => {
    const withBody = routes.filter((r) => r.body);
    expect(withBody.length).toBeGreaterThan(15);
    const before = await tableCounts(srv.sql);
    for (const r of routes) {
      const res = await send(r, '{"name": "x", ');
      if (r.body) {
        expect([r.method, r.path, res.status]).toEqual([r.method, r.path, 400]);
        expect(await code(res)).toBe("INVALID_BODY");
      } else expect([r.method, r.path, res.status < 500]).toEqual([r.method, r.path, true]);
    }
    expect(await tableCounts(srv.sql)).toEqual(before);
  });

  test("a body over 1 MiB → 413 PAYLOAD_TOO_LARGE with a code, nothing stored, the server still answers", async () => {
    const huge = new Uint8Array(1_048_576 + 10).fill(0x20);
    const before = await tableCounts(srv.sql);
    for (const r of routes) {
      const res = await send(r, huge);
      expect([r.path, res.status]).toEqual([r.path, 413]);
      expect(await code(res)).toBe("PAYLOAD_TOO_LARGE");
    }
    expect(await tableCounts(srv.sql)).toEqual(before);
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
  });

  test("wrong types, missing fields and shell metacharacters → 4xx with a code, nothing stored", async () => {
    const before = await tableCounts(srv.sql);
    // every field name the API's bodies use, each with a wrong type or a value a shell would read
    const wrong = JSON.stringify({
      name: 42,
      type: ["reboot"],
      id: "$(id)",
      content: 7,
      language: "; rm -rf /",
      email: 5,
      password: 5,
      text: 7,
      maxUses: "many",
      expiresInMinutes: "soon",
      deviceIds: "all",
      metric: 5,
      trigger: "x",
      cron: 5,
      actions: {},
      service: "nginx; reboot",
      signal: "KILL; reboot",
      tree: "yes",
      startsAt: "yesterday",
      scope: "all",
      role: 5,
      payload: "x",
      tags: "a b",
      updateIds: ["$(reboot)"],
      decision: "approve; reboot",
      exclusions: ["vim; reboot"],
      policyId: "`id`",
    });
    for (const r of routes.filter((r) => r.body)) {
      for (const body of ["[]", "null", "42", '"x"']) {
        const res = await send(r, body);
        expect([r.path, body, res.status]).toEqual([r.path, body, 400]);
        expect(await code(res)).toBe("INVALID_BODY");
      }
      const res = await send(r, wrong);
      expect([r.path, res.status >= 400 && res.status < 500]).toEqual([r.path, true]);
      expect(typeof (await code(res))).toBe("string");
    }
    // sign-in failures are audited by design; nothing else may change
    const after = await tableCounts(srv.sql);
    expect({ ...after, audit_log: 0 }).toEqual({ ...before, audit_log: 0 });
  });
});
