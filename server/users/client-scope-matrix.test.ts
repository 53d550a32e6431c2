import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { alert, command, device, tableCounts, terminalSession } from "../testing/fixtures.ts";
import { login, startTestServer, type TestServer } from "../testing/harness.ts";
import { type AppRoute, REQUIRED_QUERY, appRoutes, concretePath } from "../testing/routes.ts";

/**
 * The client-scope matrix, generated from the app's route list: a technician limited to client A,
 * against client B's objects of the same organization. A route naming a device-bound object (device,
 * alert, command, terminal session) answers 404 when the technician holds its permission; any route
 * needing a permission a scoped user does not keep answers 403; nothing changes. The same holds for
 * an API key limited to client A, and for a technician and a key limited to a smart group (whose one
 * member is a device of client A): client B's objects are as far from them as from the others.
 */
let srv: TestServer;
let routes: AppRoute[];
/** The technician's session and an API key limited to the same client, with what each holds. */
const callers: Record<string, { auth: Record<string, string>; held: string[] }> = {};
const needs = new Map<string, string>();
const theirs: Record<string, string> = {};
const CALLERS = [
  "a technician limited to client A",
  "an API key limited to client A",
  "a technician limited to a smart group",
  "an API key limited to a smart group",
];

beforeAll(async () => {
  srv = await startTestServer();
  routes = appRoutes(srv.server.app).filter((r) => !r.public);
  for (const r of srv.server.app.routes) {
    const method = String(r.method).toUpperCase() === "WS" ? "GET" : String(r.method).toUpperCase();
    const need = (r.hooks as { detail?: Record<string, unknown> } | undefined)?.detail?.["x-permission"];
    needs.set(`${method} ${r.path.length > 1 ? r.path.replace(/\/$/, "") : r.path}`, String(need ?? ""));
  }
  const [site] = await srv.sql<{ organizationId: string; clientId: string }[]>`
    select organization_id as "organizationId", client_id as "clientId" from sites order by created_at limit 1`;
  const org = site!.organizationId;
  const clientB = ((await (await srv.api("/api/v1/clients", { body: { name: "Client B" } })).json()) as { id: string }).id;
  const siteB = ((await (await srv.api("/api/v1/sites", { body: { clientId: clientB, name: "B office" } })).json()) as { id: string }).id;
  theirs.devices = await device(srv.sql, { organizationId: org, siteId: siteB, hostname: "b-host" });
  theirs.alerts = await alert(srv.sql, theirs.devices);
  theirs.commands = await command(srv.sql, org, theirs.devices, "succeeded");
  theirs["terminal-sessions"] = await terminalSession(srv.sql, org, theirs.devices);
  const made = await srv.api("/api/v1/users", {
    body: { email: "tech-a@example.com", password: "a long password", role: "technician", clientIds: [site!.clientId] },
  });
  expect(made.status).toBe(201);
  const key = await srv.api("/api/v1/api-keys", { body: { name: "client A sync", role: "technician", clientIds: [site!.clientId] } });
  expect(key.status).toBe(201);
  const siteA = (await srv.sql<{ id: string }[]>`select id from sites where client_id = ${site!.clientId} limit 1`)[0]!.id;
  await device(srv.sql, { organizationId: org, siteId: siteA, hostname: "a-member", tags: ["ring=pilot"] });
  const group = (
    (await (await srv.api("/api/v1/groups", { body: { name: "Pilot", expression: 'tag.ring = "pilot"' } })).json()) as {
      id: string;
    }
  ).id;
  const madeG = await srv.api("/api/v1/users", {
    body: { email: "tech-g@example.com", password: "a long password", role: "technician", groupIds: [group] },
  });
  expect(madeG.status).toBe(201);
  const keyG = await srv.api("/api/v1/api-keys", { body: { name: "pilot ring", role: "technician", groupIds: [group] } });
  expect(keyG.status).toBe(201);
  const auths: Record<string, Record<string, string>> = {
    [CALLERS[0]!]: { cookie: await login(srv.url, "tech-a@example.com", "a long password") },
    [CALLERS[1]!]: { authorization: `Bearer ${((await key.json()) as { key: string }).key}` },
    [CALLERS[2]!]: { cookie: await login(srv.url, "tech-g@example.com", "a long password") },
    [CALLERS[3]!]: { authorization: `Bearer ${((await keyG.json()) as { key: string }).key}` },
  };
  for (const [who, auth] of Object.entries(auths)) {
    const me = (await (await fetch(`${srv.url}/api/v1/auth/me`, { headers: auth })).json()) as {
      principal: { permissions: string[]; clientIds: string[] | null; groupIds: string[] | null };
    };
    const byGroup = who.endsWith("smart group");
    expect(me.principal).toMatchObject(byGroup ? { clientIds: null, groupIds: [group] } : { clientIds: [site!.clientId], groupIds: null });
    callers[who] = { auth, held: me.principal.permissions };
  }
}, 120_000);
afterAll(() => srv.stop());

/** A valid body for each device-bound route that takes one, so the request reaches the lookup. */
const VALID_BODY: Record<string, unknown> = {
  "PATCH /api/v1/devices/:id": { tags: ["x"] },
  "POST /api/v1/devices/:id/commands": { type: "reboot", payload: {} },
  "POST /api/v1/devices/:id/disconnect": {},
  "POST /api/v1/alerts/:id/notes": { text: "x" },
  "POST /api/v1/devices/:id/processes/:pid/kill": { signal: "TERM" },
  "POST /api/v1/devices/:id/files/ops": { op: "mkdir", path: "/tmp/x" },
  "POST /api/v1/devices/:id/files/send": { path: "/tmp/x", toDeviceId: "01890000-0000-7000-8000-000000000000", toPath: "/tmp/y" },
  "POST /api/v1/devices/:id/updates/install": { updateIds: [crypto.randomUUID()] },
};
const kindOf = (path: string) => path.split("/:id")[0]?.split("/").at(-1) ?? "";
const mayDo = (r: AppRoute, held: string[]) => {
  const need = needs.get(`${r.method} ${r.path}`) ?? "";
  return need === "signed-in" || need.split(" | ").some((p) => held.includes(p));
};
const send = (auth: Record<string, string>, r: AppRoute, path: string, body?: unknown) =>
  fetch(`${srv.url}${path}${REQUIRED_QUERY[`${r.method} ${r.path}`] ?? ""}`, {
    method: r.method,
    headers: r.socket
      ? {
          ...auth,
          upgrade: "websocket",
          connection: "Upgrade",
          "sec-websocket-version": "13",
          "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        }
      : { ...auth, "content-type": "application/json" },
    body: r.method === "GET" || r.method === "HEAD" ? undefined : JSON.stringify(body ?? {}),
  });

describe.each(CALLERS)("%s, on every route", (who) => {
  test("client B's devices, alerts, commands and recordings → 404; routes beyond the client → 403; nothing changes", async () => {
    const { auth, held } = callers[who]!;
    expect(held).not.toContain("users:manage");
    const before = await tableCounts(srv.sql);
    const wrong: string[] = [];
    /** Device-bound routes taking a body this file has no valid sample for (each must be taught one). */
    const untaught: string[] = [];
    let bound = 0;
    for (const r of routes) {
      const key = `${r.method} ${r.path}`;
      const kind = kindOf(r.path);
      const id = r.path.includes("/:id") ? theirs[kind] : undefined;
      if (!mayDo(r, held)) {
        if (!r.unsafe) continue;
        const res = await send(
          auth,
          r,
          concretePath(r.path, () => crypto.randomUUID()),
        );
        if (res.status !== 403) wrong.push(`${key} → ${res.status}, wanted 403`);
        continue;
      }
      if (!id) continue;
      bound++;
      if (r.body && !r.socket && !(key in VALID_BODY)) {
        untaught.push(key);
        continue;
      }
      const res = await send(
        auth,
        r,
        // toolbox routes also name a process, a service and an action: valid ones, so the device decides
        concretePath(r.path, (p) => (p === "pid" ? "1234" : p === "name" ? "cron" : p === "action" ? "disable" : id)),
        VALID_BODY[key],
      );
      if (res.status !== 404) wrong.push(`${key} → ${res.status}, wanted 404`);
    }
    expect(untaught).toEqual([]);
    expect(wrong).toEqual([]);
    expect(bound).toBeGreaterThan(10);
    const after = await tableCounts(srv.sql);
    expect({ ...after, audit_log: 0 }).toEqual({ ...before, audit_log: 0 });
  });
});
