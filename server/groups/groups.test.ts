import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sendBeacon } from "../../agent/transport/beacon.ts";
import { enrollDevice, otherOrganization, sample } from "../testing/fixtures.ts";
import { LocalBus } from "../events/bus.ts";
import { RuleEvaluator } from "../rules/evaluator.ts";
import { summarize } from "../telemetry/rows.ts";
import { login, startTestServer, type TestServer } from "../testing/harness.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
}, 120_000);
afterAll(() => srv.stop());

type Enrolled = Awaited<ReturnType<typeof enrollDevice>>;
let seq = 0;
/** One sample at the given CPU percent through the real beacon path, then the reactions settle. */
async function cpu(d: Enrolled, value: number): Promise<void> {
  await sendBeacon(srv.url, d.deviceId, d.secret, "1", [{ seq: ++seq, samples: [sample(new Date(), value)] }]);
  await srv.server.services.bus.settled();
}
async function createGroup(name: string, expression: string): Promise<string> {
  const res = await srv.api("/api/v1/groups", { body: { name, expression } });
  expect(res.status).toBe(201);
  await srv.server.services.bus.settled();
  return ((await res.json()) as { id: string }).id;
}
async function members(groupId: string, query = ""): Promise<{ items: { hostname: string }[]; nextCursor: string | null; total: number }> {
  const res = await srv.api(`/api/v1/groups/${groupId}/devices${query}`);
  expect(res.status).toBe(200);
  return res.json() as never;
}
const hostnames = async (groupId: string) => (await members(groupId)).items.map((d) => d.hostname);
/** A rule "CPU above 90 %" scoped to the group, firing at once. */
async function groupCpuRule(name: string, groupId: string): Promise<void> {
  const rule = await srv.api("/api/v1/alert-rules", {
    body: {
      name,
      metric: "cpu_percent",
      operator: ">",
      threshold: 90,
      durationSeconds: 0,
      severity: "warning",
      scope: { type: "group", id: groupId },
    },
  });
  expect(rule.status).toBe(201);
}

describe("membership follows telemetry, facts and tags", () => {
  test('os = "linux" and tag.role = "server" and cpu > 80: joins on the sample crossing 80, leaves on the next under it', async () => {
    const server = await enrollDevice(srv, "grp-server", ["role=server"]);
    const desktop = await enrollDevice(srv, "grp-desktop", ["role=desktop"]);
    const id = await createGroup("Hot Linux servers", 'os = "linux" and tag.role = "server" and cpu > 80');
    expect(await hostnames(id)).toEqual([]);

    await cpu(server, 50);
    await cpu(desktop, 95);
    expect(await hostnames(id)).toEqual([]);
    await cpu(server, 91);
    expect(await hostnames(id)).toEqual(["grp-server"]);
    await cpu(server, 93);
    await cpu(server, 12);
    expect(await hostnames(id)).toEqual([]);

    const history = (await (await srv.api(`/api/v1/groups/${id}/history`)).json()) as { items: { hostname: string; event: string }[] };
    expect(history.items.map((h) => [h.hostname, h.event])).toEqual([
      ["grp-server", "left"],
      ["grp-server", "joined"],
    ]);
    const [{ n }] = (await srv.sql`select count(*)::int as n from device_group_history where group_id = ${id}`) as unknown as [
      { n: number },
    ];
    expect(n).toBe(2); // only changes are written
  });

  test("a new group takes in the devices that already match; a changed expression re-evaluates them", async () => {
    const d = await enrollDevice(srv, "grp-tagged", ["env=groups"]);
    await cpu(d, 30);
    const id = await createGroup("Env groups", "has tag.env and cpu < 50");
    expect(await hostnames(id)).toContain("grp-tagged");
    const put = await srv.api(`/api/v1/groups/${id}`, { method: "PUT", body: { name: "Env groups", expression: 'tag.env = "other"' } });
    expect(put.status).toBe(200);
    await srv.server.services.bus.settled();
    expect(await hostnames(id)).not.toContain("grp-tagged");
  });

  test("tags set through PATCH /devices/:id move the device in and out", async () => {
    const d = await enrollDevice(srv, "grp-patch", []);
    const id = await createGroup("Patched", 'tag.team = "blue"');
    expect(await hostnames(id)).toEqual([]);
    const patch = async (tags: string[]) => {
      const res = await srv.api(`/api/v1/devices/${d.deviceId}`, { method: "PATCH", body: { tags } });
      expect(res.status).toBe(200);
      await srv.server.services.bus.settled();
    };
    await patch(["team=blue"]);
    expect(await hostnames(id)).toEqual(["grp-patch"]);
    await patch(["team=red"]);
    expect(await hostnames(id)).toEqual([]);
  });

  test("a status change moves the device in (device.status), a deleted device leaves with its history kept", async () => {
    const d = await enrollDevice(srv, "grp-status", ["st"]);
    const id = await createGroup("Beacon only", 'status = "unresponsive" and has tag.st');
    expect(await hostnames(id)).toEqual([]); // enrolled, never heard from: offline
    await cpu(d, 5); // a beacon without a socket: unresponsive
    await srv.server.services.status.sweep();
    await srv.server.services.bus.settled();
    expect(await hostnames(id)).toEqual(["grp-status"]);

    expect((await srv.api(`/api/v1/devices/${d.deviceId}`, { method: "DELETE" })).status).toBe(200);
    await srv.server.services.bus.settled();
    expect(await hostnames(id)).toEqual([]);
    const history = (await (await srv.api(`/api/v1/groups/${id}/history`)).json()) as {
      items: { deviceId: string; hostname: string | null; event: string }[];
    };
    expect(history.items).toEqual([expect.objectContaining({ deviceId: d.deviceId, hostname: null, event: "joined" })]);
  });

  test("the device list filters by group", async () => {
    const id = await createGroup("By host", 'hostname ~ "^grp-list-"');
    await enrollDevice(srv, "grp-list-a");
    const b = await enrollDevice(srv, "grp-list-b");
    await cpu(b, 1); // a stored sample evaluates a device the engine has not seen
    const res = await srv.api(`/api/v1/devices?groupId=${id}`);
    const page = (await res.json()) as { items: { hostname: string }[]; total: number };
    expect(page.items.map((x) => x.hostname)).toEqual(["grp-list-b"]);
    expect(page.total).toBe(1);
  });

  test("members page by hostname with a cursor", async () => {
    for (const h of ["grp-page-1", "grp-page-2", "grp-page-3"]) await enrollDevice(srv, h, ["paged"]);
    const id = await createGroup("Paged", "has tag.paged");
    const first = await members(id, "?limit=2");
    expect(first.items.map((x) => x.hostname)).toEqual(["grp-page-1", "grp-page-2"]);
    expect(first.total).toBe(3);
    const second = await members(id, `?limit=2&cursor=${first.nextCursor}`);
    expect(second.items.map((x) => x.hostname)).toEqual(["grp-page-3"]);
    expect(second.nextCursor).toBeNull();
    expect((await srv.api(`/api/v1/groups/${id}/devices?cursor=nonsense`)).status).toBe(400);
  });
});

describe("as a scope", () => {
  test("an alert rule scoped to a group fires for its members only, from the sample after the device joins", async () => {
    const member = await enrollDevice(srv, "grp-rule-in", ["rulegrp=yes"]);
    const outsider = await enrollDevice(srv, "grp-rule-out", ["rulegrp=no"]);
    const id = await createGroup("Rule scope", 'tag.rulegrp = "yes" and cpu > 50');
    await groupCpuRule("Group CPU", id);
    await srv.server.services.rules.reloadRules();
    const alerts = async (deviceId: string) =>
      (await srv.sql<{ state: string }[]>`select state from alerts where device_id = ${deviceId} and type = 'group_cpu'`).map(
        (a) => a.state,
      );
    await cpu(member, 95); // joins the group with this sample
    await cpu(outsider, 95);
    await srv.server.services.rules.idle();
    expect(await hostnames(id)).toEqual(["grp-rule-in"]);
    await cpu(member, 96);
    await cpu(outsider, 96);
    await srv.server.services.rules.idle();
    await srv.server.services.bus.settled();
    expect(await alerts(member.deviceId)).toEqual(["firing"]);
    expect(await alerts(outsider.deviceId)).toEqual([]);
  });

  test("a join that lands while the rules are reading the device's facts is not lost (the next sample sees it)", async () => {
    const d = await enrollDevice(srv, "grp-rule-race", ["racegrp=no"]);
    const id = await createGroup("Race scope", 'tag.racegrp = "yes"');
    await groupCpuRule("Race CPU", id);
    // an evaluator on the real database whose facts query hands back its rows only when let go:
    // the device joins the group after the query read it and before the evaluator caches what it read
    let reached!: () => void;
    let release!: () => void;
    const read = new Promise<void>((r) => (reached = r));
    const gate = new Promise<void>((r) => (release = r));
    let held = false;
    const sql = new Proxy(srv.sql, {
      apply(target, self, args) {
        const q = Reflect.apply(target, self, args) as Promise<unknown>;
        const text = Array.isArray(args[0]) ? (args[0] as string[]).join("") : "";
        if (held || !text.includes("from rule_device_facts(")) return q;
        held = true;
        return q.then(async (rows) => {
          reached();
          await gate;
          return rows;
        });
      },
    });
    const rules = new RuleEvaluator(sql, srv.server.services.live, new LocalBus());
    await rules.start();
    const stored = (value: number) => {
      const s = sample(new Date(), value);
      return [{ deviceId: d.deviceId, organizationId: d.organizationId, sample: s, summary: summarize(s) }];
    };
    rules.submit(stored(95));
    await read;
    await srv.sql`insert into device_group_members (group_id, device_id) values (${id}, ${d.deviceId})`;
    rules.groupMembership([{ groupId: id, deviceId: d.deviceId, joined: true }]);
    release();
    await rules.idle();
    rules.submit(stored(96));
    await rules.idle();
    const [a] = await srv.sql<{ state: string }[]>`select state from alerts where device_id = ${d.deviceId} and type = 'race_cpu'`;
    expect(a?.state).toBe("firing");
  });
});

describe("CRUD, audit and bad input", () => {
  test("create, read, list, rename, delete; each change audited with the actor", async () => {
    const id = await createGroup("Windows 2019", 'os = "windows" and os_version ~ "Server 2019"');
    const got = (await (await srv.api(`/api/v1/groups/${id}`)).json()) as { name: string; expression: string; memberCount: number };
    expect(got).toMatchObject({ name: "Windows 2019", expression: 'os = "windows" and os_version ~ "Server 2019"', memberCount: 0 });
    const list = (await (await srv.api("/api/v1/groups")).json()) as { items: { id: string }[] };
    expect(list.items.map((g) => g.id)).toContain(id);
    expect((await srv.api("/api/v1/groups", { body: { name: "Windows 2019", expression: "cpu > 1" } })).status).toBe(409);
    const put = await srv.api(`/api/v1/groups/${id}`, { method: "PUT", body: { name: "Win 2019", expression: 'os = "windows"' } });
    expect(put.status).toBe(200);
    expect((await srv.api(`/api/v1/groups/${id}`, { method: "DELETE" })).status).toBe(200);
    expect((await srv.api(`/api/v1/groups/${id}`)).status).toBe(404);
    expect((await srv.api(`/api/v1/groups/${id}`, { method: "DELETE" })).status).toBe(404);
    const audit = await srv.sql<{ action: string; actorName: string }[]>`
      select action, actor_name as "actorName" from audit_log where target_id = ${id} order by id`;
    expect(audit.map((a) => a.action)).toEqual(["group.created", "group.updated", "group.deleted"]);
    expect(new Set(audit.map((a) => a.actorName))).toEqual(new Set(["admin@example.com"]));
  });

  test("a malformed expression is a 422 INVALID_EXPRESSION naming the position; an unknown field is named", async () => {
    const res = await srv.api("/api/v1/groups", { body: { name: "bad", expression: 'os = "linux" and and cpu > 1' } });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: { code: string; message: string; details: { position: number; field?: string } } };
    expect(body.error.code).toBe("INVALID_EXPRESSION");
    expect(body.error.details.position).toBe(17);
    expect(body.error.message).toContain("at 17");

    const unknown = await srv.api("/api/v1/groups", { body: { name: "bad", expression: 'colour = "red"' } });
    expect(unknown.status).toBe(422);
    const u = (await unknown.json()) as { error: { message: string; details: { position: number; field: string } } };
    expect(u.error.details).toEqual({ position: 0, field: "colour" });
    expect(u.error.message).toContain('unknown field "colour"');

    const put = await srv.api(`/api/v1/groups/${crypto.randomUUID()}`, { method: "PUT", body: { name: "x", expression: "cpu >" } });
    expect(put.status).toBe(422);
    expect((await srv.api("/api/v1/groups", { body: { name: "long", expression: "x".repeat(2001) } })).status).toBe(422);
  });

  test("another organization's group is a 404, and it never sees ours", async () => {
    const other = await otherOrganization(srv.sql);
    const ours = await createGroup("Ours", "cpu > 0");
    const cookie = await login(srv.url, other.email, other.password);
    const as = (path: string, init: RequestInit = {}) =>
      srv.server.app.handle(new Request(`${srv.url}${path}`, { ...init, headers: { cookie, "content-type": "application/json" } }));
    expect((await as(`/api/v1/groups/${ours}`)).status).toBe(404);
    expect((await as(`/api/v1/groups/${ours}/devices`)).status).toBe(404);
    expect((await as(`/api/v1/groups/${ours}/history`)).status).toBe(404);
    expect((await as(`/api/v1/groups/${ours}`, { method: "PUT", body: JSON.stringify({ name: "x", expression: "cpu > 1" }) })).status).toBe(
      404,
    );
    expect((await as(`/api/v1/groups/${ours}`, { method: "DELETE" })).status).toBe(404);
    const theirs = (await (await as("/api/v1/groups")).json()) as { items: unknown[] };
    expect(theirs.items).toEqual([]);
    expect((await srv.api(`/api/v1/groups/${ours}`)).status).toBe(200);
  });
});
