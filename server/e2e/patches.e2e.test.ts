import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { enrollRealAgent, type EnrolledAgent } from "../testing/agents.ts";
import { type AptRepo, aptRepo } from "../testing/apt-repo.ts";
import { startTestServer, type TestServer, waitFor } from "../testing/harness.ts";

/**
 * The patch acceptance test, with the real apt and dpkg of this machine and the real compiled agent:
 * a file-based apt repository built here holds two tiny packages at version 2.0 in a security pocket
 * (suite `stable-security`); version 1.0 of both is installed on the machine. The agent's scan reports
 * two pending security updates; one is approved, the other denied; a maintenance window of a policy
 * attached to the organization opens and installs the approved one (apt-get, through an argument
 * vector); dpkg-query shows 2.0 for it and still 1.0 for the denied one, and compliance flips to
 * compliant (a denied update is an accepted risk). apt is pointed at the repository through APT_CONFIG,
 * so the machine's own sources and lists stay as they were.
 */
const tag = crypto.randomUUID().slice(0, 6);
const APPROVED = `sentpulse-demo-${tag}`;
const DENIED = `sentpulse-denied-${tag}`;

let srv: TestServer;
let agent: EnrolledAgent;
let repo: AptRepo;
let group: string;

type Update = {
  id: string;
  name: string;
  version: string;
  currentVersion: string;
  classification: string;
  state: string;
  approval: string;
  origin: string;
  installCommandId: string | null;
};
const json = async <T>(res: Response | Promise<Response>) => (await (await res).json()) as T;
const base = () => `/api/v1/devices/${agent.deviceId}`;
const updates = async () => (await json<{ items: Update[] }>(srv.api(`${base()}/updates`))).items;
const ours = async () => (await updates()).filter((u) => u.name === APPROVED || u.name === DENIED);
const byName = async (name: string) => (await ours()).find((u) => u.name === name) as Update;
const commandCount = async () => Number((await srv.sql`select count(*)::int as n from commands where device_id = ${agent.deviceId}`)[0]?.n);

beforeAll(async () => {
  repo = aptRepo({ packages: [APPROVED, DENIED], from: "1.0", to: "2.0", suite: "stable-security", origin: "SENTpulse-Test" });
  repo.installLocal(APPROVED, "1.0");
  repo.installLocal(DENIED, "1.0");
  srv = await startTestServer({ telemetryIntervalS: 2, schedulerIntervalMs: 500 });
  agent = await enrollRealAgent(srv);
  process.env.APT_CONFIG = repo.aptConfig; // inherited by the agent and the apt it runs
  agent.start();
  delete process.env.APT_CONFIG;
  await waitFor(
    "online",
    async () => (await srv.sql`select status from devices where id = ${agent.deviceId}`)[0]?.status === "online",
    30_000,
  );
}, 180_000);

afterAll(async () => {
  await agent?.stop();
  await srv?.stop();
  repo?.cleanup();
});

describe("patching with the real apt", () => {
  test("the scan reports both packages as pending security updates and stores the inventory", async () => {
    expect(repo.installedVersion(APPROVED)).toBe("1.0");
    const res = await srv.api(`${base()}/updates/scan`, { method: "POST" });
    expect(res.status).toBe(200);
    const scan = await json<{
      updates: number;
      security: number;
      inventory: { mode: string; stored: boolean; items: number };
      sources: string[];
      peakRssBytes: number;
    }>(res);
    expect(scan).toMatchObject({ updates: 2, security: 2, sources: ["apt"], inventory: { stored: true } });
    // the scheduler scans a device it never scanned at once, so this request may join that scan or follow it
    expect(["full", "same"]).toContain(scan.inventory.mode);
    const [state] = await srv.sql`select inventory_items from device_patch_state where device_id = ${agent.deviceId}`;
    expect(state?.inventory_items).toBeGreaterThan(100);
    expect(scan.peakRssBytes).toBeGreaterThan(1_000_000);
    const u = await byName(APPROVED);
    expect(u).toMatchObject({ currentVersion: "1.0", version: "2.0", classification: "security", state: "pending", approval: "awaiting" });
    expect(u.origin).toContain("stable-security");

    const [sw] = await srv.sql`select version, publisher from device_software where device_id = ${agent.deviceId} and name = ${APPROVED}`;
    expect(sw).toMatchObject({ version: "1.0", publisher: "SENTpulse tests <tests@example.com>" });
    const [audit] = await srv.sql`select actor_name from audit_log where action = 'patch.scan' and target_id = ${agent.deviceId}`;
    expect(audit?.actor_name).toBe("admin@example.com");
  }, 120_000);

  test("a second scan sends no whole inventory (the server already holds it); the fleet search finds the device below version 2", async () => {
    const scan = await json<{ inventory: { mode: string; stored: boolean } }>(srv.api(`${base()}/updates/scan`, { method: "POST" }));
    // "same", or a small delta when something else installed or removed a package on this machine meanwhile
    expect(scan.inventory.stored).toBe(true);
    expect(["same", "delta"]).toContain(scan.inventory.mode);
    const below = await json<{ items: { deviceId: string; version: string }[]; devices: number }>(
      srv.api(`/api/v1/software?q=${APPROVED}&version=<2`),
    );
    expect(below.devices).toBe(1);
    expect(below.items[0]).toMatchObject({ deviceId: agent.deviceId, version: "1.0" });
    const atLeast = await json<{ devices: number }>(srv.api(`/api/v1/software?q=${APPROVED}&version=>=2`));
    expect(atLeast.devices).toBe(0);
  }, 120_000);

  test("a smart group on patch.security_missing gains the device after the scan", async () => {
    const g = await json<{ id: string }>(
      srv.api("/api/v1/groups", { body: { name: `unpatched ${tag}`, expression: "patch.security_missing > 1" } }),
    );
    group = g.id;
    await waitFor(
      "membership",
      async () =>
        (await srv.sql`select 1 from device_group_members where group_id = ${group} and device_id = ${agent.deviceId}`).length === 1,
      15_000,
    );
  });

  test("compliance: the device is missing security updates", async () => {
    const r = await json<{
      summary: { devices: number; missing: number };
      items: { deviceId: string; status: string; missingSecurity: number }[];
    }>(srv.api("/api/v1/reports/patch-compliance"));
    expect(r.items.find((i) => i.deviceId === agent.deviceId)).toMatchObject({ status: "missing", missingSecurity: 2 });
  });

  test("bad input is refused and nothing runs: unknown update ids, another device's update, shell metacharacters", async () => {
    const before = await commandCount();
    const ghost = crypto.randomUUID();
    const a = await srv.api("/api/v1/updates/approvals", { body: { updateIds: [ghost], decision: "approve" } });
    expect(a.status).toBe(404);
    expect((await json<{ error: { code: string } }>(a)).error.code).toBe("UPDATE_NOT_FOUND");
    const i = await srv.api(`${base()}/updates/install`, { body: { updateIds: [ghost] } });
    expect(i.status).toBe(404);
    expect((await json<{ error: { code: string } }>(i)).error.code).toBe("UPDATE_NOT_ON_DEVICE");
    const meta = await srv.api("/api/v1/software?q=zoom;reboot");
    expect(meta.status).toBe(422);
    const { id: policyId } = await json<{ id: string }>(srv.api("/api/v1/policies", { body: { name: `bad ${tag}` } }));
    const ex = await srv.api("/api/v1/patch-policies", { body: { policyId, exclusions: ["vim; reboot"] } });
    expect(ex.status).toBe(422);
    const cron = await srv.api("/api/v1/patch-policies", {
      body: { policyId, window: { cron: "every tuesday", durationMinutes: 60, timezone: "UTC" } },
    });
    expect(cron.status).toBe(422);
    expect(await commandCount()).toBe(before);
    expect(await srv.sql`select 1 from patch_approvals`).toHaveLength(0);
  });

  test("approve one, deny the other; a denied update cannot be installed by hand", async () => {
    const approved = await byName(APPROVED);
    const denied = await byName(DENIED);
    const ok = await json<{ decided: number }>(
      srv.api("/api/v1/updates/approvals", { body: { updateIds: [approved.id], decision: "approve" } }),
    );
    expect(ok.decided).toBe(1);
    await srv.api("/api/v1/updates/approvals", { body: { updateIds: [denied.id], decision: "deny" } });
    expect((await byName(APPROVED)).approval).toBe("approved");
    expect((await byName(DENIED)).approval).toBe("denied");
    const refused = await srv.api(`${base()}/updates/install`, { body: { updateIds: [denied.id] } });
    expect(refused.status).toBe(409);
    expect((await json<{ error: { code: string } }>(refused)).error.code).toBe("UPDATE_DENIED");
    const audits = await srv.sql`
      select action, actor_name from audit_log where action in ('patch.approve', 'patch.deny') order by id`;
    expect([...audits]).toEqual([
      { action: "patch.approve", actor_name: "admin@example.com" },
      { action: "patch.deny", actor_name: "admin@example.com" },
    ]);
  });

  test("a maintenance window opens and installs the approved update: dpkg shows 2.0, the denied one stays 1.0, compliance flips", async () => {
    const policy = await json<{ id: string }>(srv.api("/api/v1/policies", { body: { name: `patching ${tag}` } }));
    const assigned = await srv.api(`/api/v1/policies/${policy.id}/assignments`, { body: { target: { type: "organization" } } });
    expect(assigned.status).toBeLessThan(300);
    const pp = await srv.api("/api/v1/patch-policies", {
      body: { policyId: policy.id, window: { cron: "* * * * *", durationMinutes: 60, timezone: "Europe/Paris" }, reboot: "never" },
    });
    expect(pp.status).toBe(201);

    const installing = await waitFor(
      "the window's install command",
      async () => {
        const u = await byName(APPROVED);
        return u.installCommandId ? u : undefined;
      },
      30_000,
    );
    const final = await waitFor(
      "the install settled",
      async () => {
        const u = await byName(APPROVED);
        return u.state === "installed" || u.state === "failed" ? u : undefined;
      },
      180_000,
    );
    const [cmd] = await srv.sql<
      { status: string; stdout: string; actor_type: string; actor_name: string; payload: { updates: unknown[] } }[]
    >`
      select status, stdout, actor_type, actor_name, payload from commands where id = ${installing.installCommandId}`;
    expect(final.state, cmd?.stdout).toBe("installed");
    expect(cmd).toMatchObject({ status: "succeeded", actor_type: "schedule" });
    expect(cmd?.actor_name).toContain(`patching ${tag}`);
    expect(cmd?.payload.updates).toEqual([{ source: "apt", name: APPROVED, version: "2.0" }]);
    expect(cmd?.stdout).toContain(`[patch] ${APPROVED}=2.0: installed`);
    expect(cmd?.stdout).toContain(`Unpacking ${APPROVED} (2.0) over (1.0)`);

    expect(repo.installedVersion(APPROVED)).toBe("2.0");
    expect(repo.installedVersion(DENIED)).toBe("1.0");
    expect((await byName(DENIED)).state).toBe("pending");

    const r = await json<{ items: { deviceId: string; status: string; missingSecurity: number }[] }>(
      srv.api("/api/v1/reports/patch-compliance"),
    );
    expect(r.items.find((i) => i.deviceId === agent.deviceId)).toMatchObject({ status: "compliant", missingSecurity: 0 });
    const [install] =
      await srv.sql`select actor_type from audit_log where action = 'command.patch_install' and target_id = ${agent.deviceId}`;
    expect(install?.actor_type).toBe("schedule");
    const [sw] = await srv.sql`select version from device_software where device_id = ${agent.deviceId} and name = ${APPROVED}`;
    expect(sw?.version).toBe("2.0");
    // one security update left (the denied one): the device leaves the "more than one missing" group
    await waitFor(
      "left the group",
      async () =>
        (await srv.sql`select 1 from device_group_members where group_id = ${group} and device_id = ${agent.deviceId}`).length === 0,
      15_000,
    );
  }, 240_000);

  test("the window opens once: no second command for the same occurrence, and nothing for the denied update", async () => {
    await Bun.sleep(1500);
    const rows = await srv.sql`select count(*)::int as n from commands where device_id = ${agent.deviceId} and type = 'patch_install'`;
    expect(rows[0]?.n).toBe(1);
    const csv = await (await srv.api("/api/v1/reports/patch-compliance?format=csv")).text();
    expect(csv.split("\r\n")[0]).toBe(
      "hostname,client,site,status,missing_critical,missing_security,missing_since,overdue,failed,pending,scanned_at",
    );
    expect(csv).toContain(",compliant,");
    const pdf = await srv.api("/api/v1/reports/patch-compliance?format=pdf");
    expect(pdf.headers.get("content-type")).toBe("application/pdf");
    expect(new TextDecoder().decode((await pdf.arrayBuffer()).slice(0, 5))).toBe("%PDF-");
  });
});
