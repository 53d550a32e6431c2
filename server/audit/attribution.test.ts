import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { alert, enrollDevice } from "../testing/fixtures.ts";
import { startTestServer, type TestServer } from "../testing/harness.ts";

let srv: TestServer;
let deviceId: string;
let key: { id: string; key: string };
beforeAll(async () => {
  srv = await startTestServer();
  deviceId = (await enrollDevice(srv, "attributed")).deviceId;
  key = (await (await srv.api("/api/v1/api-keys", { body: { name: "nightly-ci" } })).json()) as { id: string; key: string };
}, 120_000);
afterAll(() => srv.stop());

const withKey = (path: string, body: unknown) =>
  fetch(`${srv.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key.key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
const auditOf = async (action: string) => [
  ...(await srv.sql<{ actorType: string; actorId: string; actorName: string; targetId: string | null }[]>`
    select actor_type as "actorType", actor_id as "actorId", actor_name as "actorName", target_id as "targetId"
    from audit_log where action = ${action} order by id desc limit 1`),
];

describe("attribution to API keys", () => {
  test("a command queued with an API key names the key (id and name) on the command and in the audit log", async () => {
    const res = await withKey(`/api/v1/devices/${deviceId}/commands`, { type: "reboot", payload: { delaySeconds: 60 } });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const command = (await (await srv.api(`/api/v1/commands/${id}`)).json()) as { requestedBy: string | null; actor: unknown };
    expect(command).toMatchObject({ requestedBy: null, actor: { type: "api_key", id: key.id, name: "nightly-ci" } });
    expect(await auditOf("command.reboot")).toEqual([
      { actorType: "api_key", actorId: key.id, actorName: "nightly-ci", targetId: deviceId },
    ]);
  });

  test("a note written with an API key names the key", async () => {
    const alertId = await alert(srv.sql, deviceId, { severity: "warning" });
    const res = await withKey(`/api/v1/alerts/${alertId}/notes`, { text: "looked at it from CI" });
    expect(res.status).toBe(201);
    const notes = (await (await srv.api(`/api/v1/alerts/${alertId}/notes`)).json()) as { items: unknown[] };
    expect(notes.items).toEqual([
      expect.objectContaining({ userId: null, text: "looked at it from CI", actor: { type: "api_key", id: key.id, name: "nightly-ci" } }),
    ]);
    expect(await auditOf("alert.noted")).toEqual([{ actorType: "api_key", actorId: key.id, actorName: "nightly-ci", targetId: alertId }]);
  });

  test("a signed-in user is named by id and e-mail", async () => {
    const res = await srv.api(`/api/v1/devices/${deviceId}/commands`, { body: { type: "shutdown", payload: {} } });
    const { id } = (await res.json()) as { id: string };
    const command = (await (await srv.api(`/api/v1/commands/${id}`)).json()) as {
      requestedBy: string;
      actor: { type: string; id: string; name: string };
    };
    expect(command.actor).toEqual({ type: "user", id: command.requestedBy, name: "admin@example.com" });
  });

  test("every audited change made over HTTP records the caller's address (clients, policies, groups, commands)", async () => {
    // a handful of routes of different capabilities, through the real socket
    const before = (await srv.sql<{ id: number }[]>`select coalesce(max(id), 0)::int as id from audit_log`)[0]!.id;
    expect((await withKey("/api/v1/clients", { name: "Addressed client" })).status).toBe(403); // technician key: no clients:manage
    const admin = (await (await srv.api("/api/v1/api-keys", { body: { name: "admin-ci", role: "admin" } })).json()) as { key: string };
    const asAdmin = (path: string, body: unknown) =>
      fetch(`${srv.url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${admin.key}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await asAdmin("/api/v1/clients", { name: "Addressed client" })).status).toBe(201);
    expect((await asAdmin("/api/v1/policies", { name: "Addressed policy" })).status).toBe(201);
    expect((await asAdmin("/api/v1/groups", { name: "Addressed group", expression: "cpu > 1" })).status).toBe(201);
    expect((await withKey(`/api/v1/devices/${deviceId}/commands`, { type: "reboot", payload: {} })).status).toBe(202);
    const rows = await srv.sql<{ action: string; ip: string | null }[]>`
      select action, ip from audit_log where id > ${before} and actor_type = 'api_key' order by id`;
    expect(rows.map((r) => r.action)).toEqual(["client.created", "policy.created", "group.created", "command.reboot"]);
    expect(rows.map((r) => r.ip)).toEqual(["127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.1"]);
  });
});
