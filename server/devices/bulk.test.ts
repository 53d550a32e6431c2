import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { enrollDevice, otherOrganization } from "../testing/fixtures.ts";
import { login, startTestServer, type TestServer } from "../testing/harness.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
}, 120_000);
afterAll(() => srv.stop());

const tagsOf = async (id: string) => (await srv.sql<{ tags: string[] }[]>`select tags from devices where id = ${id}`)[0]?.tags;
async function bulk(body: unknown, status = 200) {
  const res = await srv.api("/api/v1/devices/bulk-tags", { body });
  expect([res.status, res.status === status ? "" : await res.text()]).toEqual([status, ""]);
  await srv.server.services.bus.settled();
  return res.json() as Promise<{ matched: number; changed: number; skipped: number; error?: { code: string } }>;
}
async function group(name: string, expression: string): Promise<string> {
  const res = await srv.api("/api/v1/groups", { body: { name, expression } });
  expect(res.status).toBe(201);
  await srv.server.services.bus.settled();
  return ((await res.json()) as { id: string }).id;
}
const members = async (id: string) =>
  ((await (await srv.api(`/api/v1/groups/${id}/devices`)).json()) as { items: { hostname: string }[] }).items.map((d) => d.hostname).sort();

describe("tags in bulk", () => {
  test("listed devices: key=value replaces the key's value, removal is exact; smart groups follow; audited once", async () => {
    const a = await enrollDevice(srv, "bulk-a", ["role=web", "env=prod"]);
    const b = await enrollDevice(srv, "bulk-b", ["role=web"]);
    const dbs = await group("Bulk databases", 'tag.role = "db"');
    const r = await bulk({ target: { deviceIds: [a.deviceId, b.deviceId] }, add: ["role=db", "backup"], remove: ["env=prod"] });
    expect(r).toEqual({ matched: 2, changed: 2, skipped: 0 });
    expect(await tagsOf(a.deviceId)).toEqual(["backup", "role=db"]);
    expect(await tagsOf(b.deviceId)).toEqual(["backup", "role=db"]);
    expect(await members(dbs)).toEqual(["bulk-a", "bulk-b"]);
    // nothing to change: nothing written
    expect(await bulk({ target: { deviceIds: [a.deviceId] }, add: ["backup"] })).toEqual({ matched: 1, changed: 0, skipped: 0 });
    const audit = await srv.sql<{ details: { add: string[]; changed: number } }[]>`
      select details from audit_log where action = 'device.tags_changed' order by id`;
    expect(audit.map((x) => [x.details.add, x.details.changed])).toEqual([
      [["role=db", "backup"], 2],
      [["backup"], 0],
    ]);
  });

  test("a smart group's members; a device that would pass 32 tags is skipped", async () => {
    const c = await enrollDevice(srv, "bulk-c", ["fleet=bulk"]);
    const many = Array.from({ length: 31 }, (_, i) => `t${i}`);
    const d = await enrollDevice(srv, "bulk-d", ["fleet=bulk", ...many]);
    const g = await group("Bulk fleet", 'tag.fleet = "bulk"');
    expect(await bulk({ target: { groupId: g }, add: ["patched=2026-12", "owner=ops"] })).toEqual({ matched: 2, changed: 1, skipped: 1 });
    expect(await tagsOf(c.deviceId)).toEqual(["fleet=bulk", "owner=ops", "patched=2026-12"]);
    expect((await tagsOf(d.deviceId))?.length).toBe(32);
  });

  test("bad input: nothing to do, malformed or shell-like tags, another organization's device or group → 4xx, nothing changed", async () => {
    const e = await enrollDevice(srv, "bulk-e", ["keep=me"]);
    const other = await otherOrganization(srv.sql);
    expect((await bulk({ target: { deviceIds: [e.deviceId] } }, 422)).error?.code).toBe("VALIDATION_FAILED");
    for (const tag of ["a;rm -rf /", "$(reboot)", "x y", ""]) await bulk({ target: { deviceIds: [e.deviceId] }, add: [tag] }, 422);
    await bulk({ target: { deviceIds: [] }, add: ["x"] }, 422);
    expect((await bulk({ target: { deviceIds: [e.deviceId, other.deviceId] }, add: ["x"] }, 404)).error?.code).toBe("DEVICE_NOT_FOUND");
    expect((await bulk({ target: { groupId: crypto.randomUUID() }, add: ["x"] }, 404)).error?.code).toBe("GROUP_NOT_FOUND");
    expect(await tagsOf(e.deviceId)).toEqual(["keep=me"]);
    expect(await tagsOf(other.deviceId)).toEqual([]);
  });

  test("a user limited to a client: a group's members outside their clients are untouched; listing one is a 404", async () => {
    const clientB = ((await (await srv.api("/api/v1/clients", { body: { name: "Bulk B" } })).json()) as { id: string }).id;
    const siteB = ((await (await srv.api("/api/v1/sites", { body: { clientId: clientB, name: "B" } })).json()) as { id: string }).id;
    const mine = await enrollDevice(srv, "bulk-mine", ["scope=bulk"]);
    const theirs = await enrollDevice(srv, "bulk-theirs", ["scope=bulk"], siteB);
    const g = await group("Bulk scope", 'tag.scope = "bulk"');
    const [{ clientId }] = (await srv.sql`
      select s.client_id as "clientId" from devices d join sites s on s.id = d.site_id where d.id = ${mine.deviceId}`) as unknown as [
      { clientId: string },
    ];
    await srv.api("/api/v1/users", {
      body: { email: "bulk-tech@example.com", password: "a long password", role: "technician", clientIds: [clientId] },
    });
    const cookie = await login(srv.url, "bulk-tech@example.com", "a long password");
    const as = (body: unknown) =>
      fetch(`${srv.url}/api/v1/devices/bulk-tags`, {
        method: "POST",
        headers: { cookie, "content-type": "application/json", origin: srv.url },
        body: JSON.stringify(body),
      });
    const byGroup = await as({ target: { groupId: g }, add: ["touched"] });
    expect(await byGroup.json()).toEqual({ matched: 1, changed: 1, skipped: 0 });
    expect(await tagsOf(mine.deviceId)).toContain("touched");
    expect(await tagsOf(theirs.deviceId)).not.toContain("touched");
    expect((await as({ target: { deviceIds: [theirs.deviceId] }, add: ["touched"] })).status).toBe(404);
  });
});

describe("commands for a smart group", () => {
  test("POST /commands with a groupId queues one command per member the caller reaches", async () => {
    const x = await enrollDevice(srv, "cmd-x", ["run=group"]);
    const y = await enrollDevice(srv, "cmd-y", ["run=group"]);
    const g = await group("Command group", 'tag.run = "group"');
    const res = await srv.api("/api/v1/commands", {
      body: { groupId: g, type: "run_script", payload: { language: "sh", content: "true" } },
    });
    expect(res.status).toBe(202);
    const { items } = (await res.json()) as { items: { deviceId: string }[] };
    expect(items.map((i) => i.deviceId).sort()).toEqual([x.deviceId, y.deviceId].sort());
    const bad = await srv.api("/api/v1/commands", { body: { groupId: crypto.randomUUID(), type: "reboot", payload: {} } });
    expect(bad.status).toBe(404);
  });
});
