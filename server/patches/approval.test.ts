import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Sql } from "postgres";
import { applyMembership, insertGroup } from "../groups/store.ts";
import { insertAssignment, insertPolicy } from "../policies/store.ts";
import type { PatchScan, PendingUpdate } from "../protocol/patch.ts";
import { device, organization } from "../testing/fixtures.ts";
import { testSql } from "../testing/harness.ts";
import { insertPatchPolicy } from "./policies.store.ts";
import { openWindowAt } from "./scheduler.ts";
import { approvedForInstall, decide, listUpdates, recordScan } from "./updates.store.ts";

/**
 * The one definition of an update's approval, on a real PostgreSQL: a policy attached to the
 * organization auto-approves security updates after 3 days, pilots first (a smart group), the rest 2
 * days after the pilot installed it without a failure; exclusions are never approved; a denial wins;
 * a person's approval installs at every device's next window (no deferral, no ring).
 */
let sql: Sql;
let org: { organizationId: string; siteId: string };
let pilot: string;
let other: string;
const actor = { type: "user" as const, id: crypto.randomUUID(), name: "tech@example.com" };

const update = (name: string, classification: PendingUpdate["classification"]): PendingUpdate => ({
  source: "apt",
  name,
  title: `${name} 2.0`,
  currentVersion: "1.0",
  version: "2.0",
  classification,
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
const approvals = async (deviceId: string) =>
  Object.fromEntries((await listUpdates(sql, org.organizationId, null, { deviceId }, 100)).map((u) => [u.name, u.approval]));
const age = (name: string, days: number) =>
  sql`update device_updates set first_seen_at = now() - make_interval(days => ${days}) where name = ${name}`;

beforeAll(async () => {
  sql = await testSql();
  org = await organization(sql);
  pilot = await device(sql, { ...org, hostname: "pilot-01" });
  other = await device(sql, { ...org, hostname: "office-07" });
  const group = await insertGroup(sql, org.organizationId, { name: "pilots", expression: 'hostname ~ "^pilot"' });
  await applyMembership(sql, [{ groupId: group, deviceId: pilot, joined: true }]);
  const policy = await insertPolicy(sql, org.organizationId, { name: "Workstations", description: "", enabled: true });
  await insertAssignment(sql, org.organizationId, { policyId: policy, type: "organization", id: null, enforced: false });
  await insertPatchPolicy(sql, org.organizationId, {
    policyId: policy,
    autoApprove: ["security"],
    autoApproveSources: [],
    deferralDays: 3,
    pilotGroupId: group,
    ringDelayDays: 2,
    window: { cron: "0 2 * * 6", durationMinutes: 120, timezone: "Europe/Paris" },
    reboot: "if_needed",
    rebootDelaySeconds: 300,
    exclusions: ["linux-image-*"],
    scanIntervalHours: 6,
  });
  const updates = [
    update("openssl", "security"),
    update("linux-image-amd64", "security"),
    update("vim", "other"),
    update("curl", "security"),
  ];
  for (const d of [pilot, other]) await recordScan(sql, org.organizationId, d, scan(updates), new Date());
});
afterAll(() => sql?.end());

describe("approval of an update on a device", () => {
  test("within the deferral: awaiting; exclusions never; other classifications wait for a person", async () => {
    expect(await approvals(pilot)).toEqual({ openssl: "awaiting", "linux-image-amd64": "excluded", vim: "awaiting", curl: "awaiting" });
  });

  test("after the deferral: approved on the pilots, the rest wait for the ring", async () => {
    await age("openssl", 4);
    await age("curl", 4);
    expect(await approvals(pilot)).toMatchObject({ openssl: "approved", curl: "approved" });
    expect(await approvals(other)).toMatchObject({ openssl: "ring_wait", curl: "ring_wait" });
    expect(
      (await approvedForInstall(sql, org.organizationId, [pilot, other], 3))
        .map((u) => `${u.deviceId === pilot ? "pilot" : "other"}:${u.name}`)
        .sort(),
    ).toEqual(["pilot:curl", "pilot:openssl"]);
  });

  test("installed on the pilot 2 days ago without a failure: approved for the rest; a pilot failure holds it back", async () => {
    await sql`update device_updates set state = 'installed', finished_at = now() - interval '3 days' where device_id = ${pilot} and name in ('openssl', 'curl')`;
    await sql`update device_updates set state = 'failed' where device_id = ${pilot} and name = 'curl'`;
    expect(await approvals(other)).toMatchObject({ openssl: "approved", curl: "ring_wait" });
  });

  test("a denial wins over everything, for every device; an approval by hand skips the deferral and the ring", async () => {
    await decide(sql, org.organizationId, [{ source: "apt", name: "openssl", version: "2.0" }], "deny", actor);
    await decide(sql, org.organizationId, [{ source: "apt", name: "vim", version: "2.0" }], "approve", actor);
    expect(await approvals(other)).toMatchObject({ openssl: "denied", vim: "approved", curl: "ring_wait" });
    expect(await approvals(pilot)).toMatchObject({ openssl: "denied", vim: "approved" });
    // the pilot's failed curl is retried (attempts left); vim, approved by a person, goes to every device at its next window
    expect(
      (await approvedForInstall(sql, org.organizationId, [pilot, other], 3))
        .map((u) => `${u.deviceId === pilot ? "pilot" : "other"}:${u.name}`)
        .sort(),
    ).toEqual(["other:vim", "pilot:curl", "pilot:vim"]);
    await sql`update device_updates set attempts = 3 where device_id = ${pilot} and name = 'curl'`;
    expect((await approvedForInstall(sql, org.organizationId, [pilot], 3)).map((u) => u.name)).toEqual(["vim"]);
  });
});

describe("maintenance windows", () => {
  const w = { cron: "0 2 * * 6", durationMinutes: 120, timezone: "Europe/Paris" };
  test("open from 02:00 to 04:00 Paris time on Saturdays (01:00–03:00 UTC in winter)", () => {
    expect(openWindowAt(w, new Date("2026-12-05T01:30:00Z"))).toEqual({
      startsAt: new Date("2026-12-05T01:00:00Z"),
      endsAt: new Date("2026-12-05T03:00:00Z"),
    });
    expect(openWindowAt(w, new Date("2026-12-05T03:00:01Z"))).toBeUndefined();
    expect(openWindowAt(w, new Date("2026-12-04T23:59:00Z"))).toBeUndefined();
  });
  test("summer time moves it to 00:00–02:00 UTC", () => {
    expect(openWindowAt(w, new Date("2026-07-04T00:10:00Z"))?.startsAt).toEqual(new Date("2026-07-04T00:00:00Z"));
  });
  test("a cron croner cannot read throws (refused at save time with 422)", () => {
    expect(() => openWindowAt({ ...w, cron: "every tuesday" }, new Date())).toThrow();
  });
});
