import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sendBeacon } from "../../agent/transport/beacon.ts";
import { dueForCheck } from "../rules/checks.store.ts";
import { targetDevices } from "../schedules/store.ts";
import { enrollDevice, otherOrganization, sample } from "../testing/fixtures.ts";
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
  await srv.server.services.rules.idle();
}
async function post<T = { id: string }>(path: string, body: unknown, status = 201): Promise<T> {
  const res = await srv.api(path, { body });
  expect([path, res.status, res.status === status ? "" : await res.text()]).toEqual([path, status, ""]);
  await srv.server.services.bus.settled();
  return res.json() as Promise<T>;
}
async function del(path: string): Promise<void> {
  expect((await srv.api(path, { method: "DELETE" })).status).toBe(200);
  await srv.server.services.bus.settled();
}
const client = async (name: string) => (await post("/api/v1/clients", { name })).id;
const site = async (clientId: string, name: string) => (await post("/api/v1/sites", { clientId, name })).id;
const policy = async (name: string) => (await post("/api/v1/policies", { name, description: `${name} settings` })).id;
const assign = async (policyId: string, target: { type: string; id?: string }, enforced = false) =>
  (await post(`/api/v1/policies/${policyId}/assignments`, { target, enforced })).id;
const block = async (type: string, id: string) => (await post("/api/v1/policy-blocks", { target: { type, id } })).id;
const cpuRule = (name: string, policyId: string, threshold = 80) =>
  post("/api/v1/alert-rules", {
    name,
    metric: "cpu_percent",
    operator: ">",
    threshold,
    durationSeconds: 0,
    severity: "warning",
    cooldownSeconds: 0,
    scope: { type: "policy", id: policyId },
  });

interface Effective {
  blocks: { target: { type: string; name: string } }[];
  policies: {
    policyName: string;
    via: { type: string; name: string };
    enforced: boolean;
    applied: boolean;
    blockedBy: { type: string; name: string } | null;
  }[];
  rules: {
    rule: { name: string };
    source: { kind: string; name: string; policyId?: string; via?: { type: string; id: string | null; name: string } };
  }[];
  schedules: { schedule: { name: string }; source: { kind: string; name: string } }[];
}
async function effective(deviceId: string): Promise<Effective> {
  const res = await srv.api(`/api/v1/devices/${deviceId}/policies`);
  expect(res.status).toBe(200);
  return res.json() as never;
}
/** The names of the policies that apply to the device, as the view lists them. */
const applied = async (deviceId: string) =>
  (await effective(deviceId)).policies
    .filter((p) => p.applied)
    .map((p) => p.policyName)
    .sort();
const firing = async (deviceId: string, type: string) =>
  (await srv.sql<{ state: string }[]>`select state from alerts where device_id = ${deviceId} and type = ${type} order by created_at`).map(
    (a) => a.state,
  );

describe("inheritance: organization > group > client > site > device, blocks and enforcement", () => {
  test("each level reaches its devices; a site block drops what is attached above it unless enforced; the view, schedules and checks agree", async () => {
    const acme = await client("Inherit Acme");
    const hq = await site(acme, "HQ");
    const lab = await site(acme, "Lab");
    const other = await client("Inherit Other");
    const otherSite = await site(other, "Main");
    const a = await enrollDevice(srv, "inh-hq", ["inherit=yes"], hq);
    const b = await enrollDevice(srv, "inh-lab", ["inherit=yes"], lab);
    const c = await enrollDevice(srv, "inh-other", ["inherit=yes"], otherSite);
    const group = (await post("/api/v1/groups", { name: "Inherit lab", expression: 'hostname = "inh-lab"' })).id;

    const org = await policy("P org");
    const cli = await policy("P client");
    const sit = await policy("P site");
    const dev = await policy("P device");
    const grp = await policy("P group");
    const enf = await policy("P enforced");
    await assign(org, { type: "organization" });
    await assign(cli, { type: "client", id: acme });
    await assign(sit, { type: "site", id: lab });
    await assign(dev, { type: "device", id: a.deviceId });
    await assign(grp, { type: "group", id: group });
    await assign(enf, { type: "client", id: acme }, true);

    expect(await applied(a.deviceId)).toEqual(["P client", "P device", "P enforced", "P org"]);
    expect(await applied(b.deviceId)).toEqual(["P client", "P enforced", "P group", "P org", "P site"]);
    expect(await applied(c.deviceId)).toEqual(["P org"]);

    // block inheritance on the lab: organization, group and client policies stop there, the enforced one does not
    const blockId = await block("site", lab);
    const view = await effective(b.deviceId);
    expect(view.blocks.map((x) => x.target)).toEqual([{ type: "site", id: lab, name: "Inherit Acme / Lab" } as never]);
    expect(view.policies.map((p) => [p.policyName, p.via.type, p.applied, p.blockedBy?.name ?? null])).toEqual([
      ["P org", "organization", false, "Inherit Acme / Lab"],
      ["P group", "group", false, "Inherit Acme / Lab"],
      ["P client", "client", false, "Inherit Acme / Lab"],
      ["P enforced", "client", true, null],
      ["P site", "site", true, null],
    ]);
    expect(await applied(a.deviceId)).toEqual(["P client", "P device", "P enforced", "P org"]); // the other site is untouched

    // a device block keeps only what is attached to the device and what is enforced
    await block("device", a.deviceId);
    expect(await applied(a.deviceId)).toEqual(["P device", "P enforced"]);

    // the scheduler's and the check runner's SQL read the same definition as the view
    const orgId = a.organizationId;
    for (const [name, id] of Object.entries({ org, cli, sit, dev, grp, enf })) {
      const viaSchedules = (await targetDevices(srv.sql, orgId, { policyId: id })).sort();
      const viaView: string[] = [];
      for (const d of [a, b, c])
        if (
          (await applied(d.deviceId)).includes(
            `P ${{ org: "org", cli: "client", sit: "site", dev: "device", grp: "group", enf: "enforced" }[name]}`,
          )
        )
          viaView.push(d.deviceId);
      expect([name, viaSchedules]).toEqual([name, viaView.sort()]);
      await srv.sql`update devices set status = 'online' where id = any(${[a.deviceId, b.deviceId, c.deviceId]}::uuid[])`;
      const viaChecks = await dueForCheck(
        srv.sql,
        {
          id: crypto.randomUUID(),
          name,
          organizationId: orgId,
          scope: { type: "policy", id },
          spec: { kind: "run_script" } as never,
          scriptId: null,
          intervalSeconds: 60,
        },
        0,
        60,
        100,
      );
      expect([name, viaChecks.filter((x) => [a, b, c].some((d) => d.deviceId === x)).sort()]).toEqual([name, viaView.sort()]);
    }

    // lifting the block restores inheritance; a disabled policy applies nowhere
    await del(`/api/v1/policy-blocks/${blockId}`);
    expect(await applied(b.deviceId)).toEqual(["P client", "P enforced", "P group", "P org", "P site"]);
    const put = await srv.api(`/api/v1/policies/${org}`, { method: "PUT", body: { name: "P org", enabled: false } });
    expect(put.status).toBe(200);
    expect(await applied(b.deviceId)).toEqual(["P client", "P enforced", "P group", "P site"]);
  });
});

describe("a policy attached to a smart group", () => {
  test("gives a device that joins the group its alert rule at once; a block on its site removes it and clears the alert", async () => {
    const acme = await client("Smart Acme");
    const main = await site(acme, "Main");
    const server = await enrollDevice(srv, "pol-server", ["role=server"], main);
    const desktop = await enrollDevice(srv, "pol-desktop", ["role=desktop"], main);
    const group = (await post("/api/v1/groups", { name: "Hot servers", expression: 'os = "linux" and tag.role = "server" and cpu > 80' }))
      .id;
    const p = await policy("Hot server response");
    await cpuRule("Hot server CPU", p, 85);
    await assign(p, { type: "group", id: group });

    await cpu(server, 40);
    await cpu(desktop, 97);
    expect(await applied(server.deviceId)).toEqual([]);
    expect((await effective(server.deviceId)).rules.map((r) => r.rule.name)).not.toContain("Hot server CPU");

    await cpu(server, 90); // crosses 80: joins the group with this sample, so the policy applies
    expect(await applied(server.deviceId)).toEqual(["Hot server response"]);
    const rules = (await effective(server.deviceId)).rules.filter((r) => r.rule.name === "Hot server CPU");
    expect(rules.map((r) => r.source)).toEqual([
      { kind: "policy", name: "Hot server response", policyId: p, via: { type: "group", id: group, name: "Hot servers" } },
    ]);
    await cpu(server, 95); // the next sample is evaluated against the policy's rule
    expect(await firing(server.deviceId, "hot_server_cpu")).toEqual(["firing"]);
    expect(await firing(desktop.deviceId, "hot_server_cpu")).toEqual([]);

    // block inheritance on its site: the policy stops applying, the rule leaves the view, the alert clears on the next sample
    const blockId = await block("site", main);
    const view = await effective(server.deviceId);
    expect(view.policies.map((x) => [x.policyName, x.applied, x.blockedBy?.type])).toEqual([["Hot server response", false, "site"]]);
    expect(view.rules.map((r) => r.rule.name)).not.toContain("Hot server CPU");
    await cpu(server, 96);
    expect(await firing(server.deviceId, "hot_server_cpu")).toEqual(["resolved"]);

    // enforcing the assignment overrides the block
    const [assignment] = (await (await srv.api(`/api/v1/policies/${p}`)).json()).assignments as { id: string }[];
    expect((await srv.api(`/api/v1/policies/${p}/assignments/${assignment?.id}`, { method: "PUT", body: { enforced: true } })).status).toBe(
      200,
    );
    await srv.server.services.bus.settled();
    expect(await applied(server.deviceId)).toEqual(["Hot server response"]);
    await del(`/api/v1/policy-blocks/${blockId}`);
  });

  test("a schedule held by a policy targets the devices the policy reaches", async () => {
    const acme = await client("Sched Acme");
    const s1 = await site(acme, "One");
    const d = await enrollDevice(srv, "pol-sched", [], s1);
    const p = await policy("Nightly upkeep");
    const sch = await post<{ id: string; target: unknown }>("/api/v1/schedules", {
      name: "Nightly cleanup",
      cron: "0 3 * * *",
      target: { policyId: p },
      language: "sh",
      content: "true",
    });
    expect(sch.target).toEqual({ policyId: p });
    expect((await effective(d.deviceId)).schedules.map((x) => x.schedule.name)).not.toContain("Nightly cleanup");
    await assign(p, { type: "site", id: s1 });
    const view = await effective(d.deviceId);
    expect(view.schedules.filter((x) => x.schedule.name === "Nightly cleanup").map((x) => x.source.kind)).toEqual(["policy"]);
    expect(await targetDevices(srv.sql, d.organizationId, { policyId: p })).toEqual([d.deviceId]);

    const detail = (await (await srv.api(`/api/v1/policies/${p}`)).json()) as {
      schedules: { name: string }[];
      policy: { scheduleCount: number };
    };
    expect(detail.schedules.map((x) => x.name)).toEqual(["Nightly cleanup"]);
    expect(detail.policy.scheduleCount).toBe(1);
  });
});

describe("CRUD, audit and bad input", () => {
  test("create, rename, delete with its rules and schedules; every change audited with its actor", async () => {
    const p = await policy("Lifecycle");
    const rule = await cpuRule("Lifecycle CPU", p);
    await post("/api/v1/schedules", { name: "Lifecycle run", cron: "0 4 * * *", target: { policyId: p }, language: "sh", content: "true" });
    await assign(p, { type: "organization" });
    expect((await srv.api("/api/v1/policies", { body: { name: "Lifecycle" } })).status).toBe(409);
    const list = (await (await srv.api("/api/v1/policies")).json()) as {
      items: { name: string; ruleCount: number; scheduleCount: number; assignmentCount: number }[];
    };
    expect(list.items.find((x) => x.name === "Lifecycle")).toMatchObject({ ruleCount: 1, scheduleCount: 1, assignmentCount: 1 });

    await del(`/api/v1/policies/${p}`);
    expect((await srv.sql`select 1 from alert_rules where id = ${rule.id}`).count).toBe(0);
    expect((await srv.sql`select 1 from schedules where target->>'policyId' = ${p}`).count).toBe(0);
    expect((await srv.sql`select 1 from policy_assignments where policy_id = ${p}`).count).toBe(0);
    const actions = (
      await srv.sql<{ action: string; actorName: string }[]>`
        select action, actor_name as "actorName" from audit_log where target_id = ${p} order by id`
    ).map((x) => [x.action, x.actorName]);
    expect(actions).toEqual([
      ["policy.created", "admin@example.com"],
      ["policy.assigned", "admin@example.com"],
      ["policy.deleted", "admin@example.com"],
    ]);
  });

  test("targets and policies of another organization are 404s; duplicates 409; malformed bodies 422", async () => {
    const p = await policy("Bad input");
    const other = await otherOrganization(srv.sql);
    const [theirClient] = await srv.sql<{ id: string }[]>`select id from clients where organization_id = ${other.organizationId}`;
    for (const target of [
      { type: "client", id: theirClient!.id },
      { type: "site", id: other.siteId },
      { type: "device", id: other.deviceId },
      { type: "group", id: crypto.randomUUID() },
    ]) {
      const res = await srv.api(`/api/v1/policies/${p}/assignments`, { body: { target } });
      expect([target.type, res.status]).toEqual([target.type, 404]);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("TARGET_NOT_FOUND");
    }
    expect((await srv.api("/api/v1/policy-blocks", { body: { target: { type: "site", id: other.siteId } } })).status).toBe(404);
    for (const body of [
      { target: { type: "planet", id: crypto.randomUUID() } },
      { target: { type: "client" } },
      { target: { type: "site", id: "1; rm -rf /" } },
      { target: { type: "organization" }, enforced: "yes" },
    ])
      expect((await srv.api(`/api/v1/policies/${p}/assignments`, { body })).status).toBe(422);
    expect((await srv.api("/api/v1/policy-blocks", { body: { target: { type: "organization" } } })).status).toBe(422);
    await assign(p, { type: "organization" });
    const again = await srv.api(`/api/v1/policies/${p}/assignments`, { body: { target: { type: "organization" } } });
    expect(again.status).toBe(409);

    // a rule or schedule cannot name a policy or group the organization does not have
    const theirs = await srv.api("/api/v1/alert-rules", {
      body: {
        name: "x",
        metric: "cpu_percent",
        operator: ">",
        threshold: 1,
        severity: "info",
        scope: { type: "policy", id: crypto.randomUUID() },
      },
    });
    expect(theirs.status).toBe(404);
    const sched = await srv.api("/api/v1/schedules", {
      body: { name: "x", cron: "0 3 * * *", target: { groupId: crypto.randomUUID() }, language: "sh", content: "true" },
    });
    expect(sched.status).toBe(404);

    // the other organization sees none of ours
    const cookie = await login(srv.url, other.email, other.password);
    const theirList = await fetch(`${srv.url}/api/v1/policies`, { headers: { cookie } });
    expect(((await theirList.json()) as { items: unknown[] }).items).toEqual([]);
  });
});
