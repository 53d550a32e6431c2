import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { PatchScan, PendingUpdate } from "../protocol/patch.ts";
import { device } from "../testing/fixtures.ts";
import { login, startTestServer, type TestServer } from "../testing/harness.ts";
import { approvedForInstall, recordScan } from "./updates.store.ts";

/**
 * A technician limited to one client approves and denies updates on the devices they reach, one by
 * one (an organization-wide decision would reach devices they cannot see): the other client's device
 * with the same update is untouched, a denial at either level wins, an update id of a device they do
 * not reach is 404 and nothing is decided; each decision is audited with its real actor.
 */
let srv: TestServer;
let cookie: string;
let orgId: string;
let mine: string;
let theirs: string;

const update = (name: string): PendingUpdate => ({
  source: "apt",
  name,
  title: `${name} 2.0`,
  currentVersion: "1.0",
  version: "2.0",
  classification: "security",
  severity: null,
  ids: [],
  origin: "Debian-Security:12/stable-security",
  sizeBytes: null,
  rebootRequired: null,
});
const scan = (updates: PendingUpdate[]): PatchScan => ({
  inventory: { mode: "same", hash: "0".repeat(64) },
  updates,
  sources: ["apt"],
  problems: [],
  durationMs: 1,
  peakRssBytes: null,
});
const as = (path: string, body?: unknown) =>
  fetch(`${srv.url}${path}`, {
    method: body ? "POST" : "GET",
    headers: { cookie, "content-type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
type Row = { id: string; deviceId: string; name: string; approval: string };
const rows = async (deviceId: string) => ((await (await srv.api(`/api/v1/devices/${deviceId}/updates`)).json()) as { items: Row[] }).items;
const approvalOf = async (deviceId: string, name: string) => (await rows(deviceId)).find((r) => r.name === name)?.approval;
const idOf = async (deviceId: string, name: string) => (await rows(deviceId)).find((r) => r.name === name)?.id as string;

beforeAll(async () => {
  srv = await startTestServer();
  const [site] = await srv.sql<{ id: string; organizationId: string; clientId: string }[]>`
    select id, organization_id as "organizationId", client_id as "clientId" from sites order by created_at limit 1`;
  orgId = site?.organizationId as string;
  mine = await device(srv.sql, { organizationId: orgId, siteId: site?.id as string, hostname: "a-host" });
  const clientB = ((await (await srv.api("/api/v1/clients", { body: { name: "Client B" } })).json()) as { id: string }).id;
  const siteB = ((await (await srv.api("/api/v1/sites", { body: { clientId: clientB, name: "B office" } })).json()) as { id: string }).id;
  theirs = await device(srv.sql, { organizationId: orgId, siteId: siteB, hostname: "b-host" });
  for (const d of [mine, theirs]) await recordScan(srv.sql, orgId, d, scan([update("openssl"), update("curl")]), new Date());
  const res = await srv.api("/api/v1/users", {
    body: { email: "tech-a@example.com", password: "a long password", role: "technician", clientIds: [site?.clientId] },
  });
  expect(res.status).toBe(201);
  cookie = await login(srv.url, "tech-a@example.com", "a long password");
}, 120_000);
afterAll(() => srv.stop());

describe("approvals by a technician limited to some clients", () => {
  test("an approval holds for their device alone; the other client's device still waits; audited with the technician", async () => {
    const res = await as("/api/v1/updates/approvals", { updateIds: [await idOf(mine, "openssl")], decision: "approve" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ decided: 1, changed: 1, scope: "devices" });
    expect(await approvalOf(mine, "openssl")).toBe("approved");
    expect(await approvalOf(theirs, "openssl")).toBe("awaiting");
    expect((await approvedForInstall(srv.sql, orgId, [mine, theirs], 3)).map((u) => [u.deviceId, u.name])).toEqual([[mine, "openssl"]]);
    const [audit] = await srv.sql`select actor_name, details from audit_log where action = 'patch.approve'`;
    expect(audit?.actor_name).toBe("tech-a@example.com");
    expect(audit?.details).toMatchObject({ scope: "devices", changed: 1, updates: [`${mine}:apt:openssl=2.0`] });
    // the same decision again changes nothing
    expect(await (await as("/api/v1/updates/approvals", { updateIds: [await idOf(mine, "openssl")], decision: "approve" })).json()).toEqual(
      {
        decided: 1,
        changed: 0,
        scope: "devices",
      },
    );
  });

  test("an update id of a device they do not reach is 404 and nothing is decided, even beside one of theirs", async () => {
    const before = await srv.sql`select count(*)::int as n from patch_device_approvals`;
    const res = await as("/api/v1/updates/approvals", {
      updateIds: [await idOf(mine, "curl"), await idOf(theirs, "curl")],
      decision: "approve",
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("UPDATE_NOT_FOUND");
    expect(await srv.sql`select count(*)::int as n from patch_device_approvals`).toEqual(before);
    expect(await approvalOf(mine, "curl")).toBe("awaiting");
  });

  test("a denial on their device counts it as no longer missing there; the organization's denial wins over their approval", async () => {
    await as("/api/v1/updates/approvals", { updateIds: [await idOf(mine, "curl")], decision: "deny" });
    expect(await approvalOf(mine, "curl")).toBe("denied");
    expect(await approvalOf(theirs, "curl")).toBe("awaiting");
    const [counts] = await srv.sql`select missing_security from device_patch_state where device_id = ${mine}`;
    expect(counts?.missing_security).toBe(1);
    // the organization-wide admin denies openssl for everyone: it wins over the technician's approval
    const org = await srv.api("/api/v1/updates/approvals", { body: { updateIds: [await idOf(theirs, "openssl")], decision: "deny" } });
    expect(await org.json()).toEqual({ decided: 1, changed: 1, scope: "organization" });
    expect(await approvalOf(mine, "openssl")).toBe("denied");
    expect(await approvedForInstall(srv.sql, orgId, [mine, theirs], 3)).toEqual([]);
  });

  test("asking for the whole organization is 403 APPROVAL_NEEDS_ORGANIZATION for them, and nothing is decided", async () => {
    const before =
      await srv.sql`select (select count(*) from patch_device_approvals)::int as d, (select count(*) from patch_approvals)::int as o`;
    const res = await as("/api/v1/updates/approvals", {
      updateIds: [await idOf(mine, "curl")],
      decision: "approve",
      scope: "organization",
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("APPROVAL_NEEDS_ORGANIZATION");
    expect(
      await srv.sql`select (select count(*) from patch_device_approvals)::int as d, (select count(*) from patch_approvals)::int as o`,
    ).toEqual(before);
  });
});

describe("a decision for one device by a user of the whole organization (the device page's)", () => {
  test("scope devices: approved on that device only; the same version elsewhere still waits", async () => {
    await recordScan(srv.sql, orgId, mine, scan([update("openssl"), update("curl"), update("zlib")]), new Date());
    await recordScan(srv.sql, orgId, theirs, scan([update("openssl"), update("curl"), update("zlib")]), new Date());
    const res = await srv.api("/api/v1/updates/approvals", {
      body: { updateIds: [await idOf(theirs, "zlib")], decision: "approve", scope: "devices" },
    });
    expect(await res.json()).toEqual({ decided: 1, changed: 1, scope: "devices" });
    expect(await approvalOf(theirs, "zlib")).toBe("approved");
    expect(await approvalOf(mine, "zlib")).toBe("awaiting");
    const [audit] = await srv.sql`select actor_name, details from audit_log where action = 'patch.approve' order by id desc limit 1`;
    expect(audit?.actor_name).toBe("admin@example.com");
    expect(audit?.details).toMatchObject({ scope: "devices", updates: [`${theirs}:apt:zlib=2.0`] });
  });
});
