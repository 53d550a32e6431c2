import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { PatchScan } from "../protocol/patch.ts";
import { device } from "../testing/fixtures.ts";
import { startTestServer, type TestServer, waitFor } from "../testing/harness.ts";
import { complianceSummary, organizationsWithPatches, snapshotCompliance } from "./compliance.store.ts";
import { devicesDueScan } from "./policies.store.ts";
import { recordScan, recordScanFailure } from "./updates.store.ts";

/**
 * A maintenance window opened for a device that is not connected: its install command waits in the
 * queue until the window's end (it runs if the device comes back in time, else the next window
 * catches up), and the device is woken through a neighbour (here it never reported a MAC, so the wake
 * is recorded as NO_WAKE_ADDRESS), with the patch window as the actor.
 */
const emptyScan: PatchScan = {
  inventory: { mode: "same", hash: "0".repeat(64) },
  updates: [],
  sources: ["apt"],
  problems: [],
  durationMs: 1,
  peakRssBytes: null,
};
let srv: TestServer;
let deviceId: string;
let patchPolicyId: string;
const json = async <T>(res: Response | Promise<Response>) => (await (await res).json()) as T;

beforeAll(async () => {
  srv = await startTestServer();
  const [site] = await srv.sql<{ organizationId: string; id: string }[]>`select organization_id as "organizationId", id from sites limit 1`;
  if (!site) throw new Error("no site");
  deviceId = await device(srv.sql, { organizationId: site.organizationId, siteId: site.id, hostname: "asleep-01" });
  const scan: PatchScan = {
    inventory: { mode: "same", hash: "0".repeat(64) },
    updates: [
      {
        source: "apt",
        name: "openssl",
        title: "openssl 3.0.17",
        currentVersion: "3.0.16",
        version: "3.0.17-1~deb12u2",
        classification: "security",
        severity: null,
        ids: [],
        origin: "Debian-Security:12/stable-security",
        sizeBytes: null,
        rebootRequired: null,
      },
    ],
    sources: ["apt"],
    problems: [],
    durationMs: 1,
    peakRssBytes: null,
  };
  await recordScan(srv.sql, site.organizationId, deviceId, scan, new Date());
  const policy = await json<{ id: string }>(srv.api("/api/v1/policies", { body: { name: "Servers" } }));
  await srv.api(`/api/v1/policies/${policy.id}/assignments`, { body: { target: { type: "organization" } } });
  const pp = await json<{ id: string }>(
    srv.api("/api/v1/patch-policies", { body: { policyId: policy.id, autoApprove: ["security"], reboot: "never" } }),
  );
  patchPolicyId = pp.id;
});
afterAll(() => srv?.stop());

describe("a window for a device that is not connected", () => {
  test("its install command is queued until the window's end and the update is installing", async () => {
    const r = await json<{ devices: number; updates: number; endsAt: string }>(
      srv.api(`/api/v1/patch-policies/${patchPolicyId}/window`, { body: { durationMinutes: 90 } }),
    );
    expect(r).toMatchObject({ devices: 1, updates: 1 });
    const [cmd] = await srv.sql<{ status: string; expires_at: Date; type: string; actor_name: string }[]>`
      select status, expires_at, type, actor_name from commands where device_id = ${deviceId}`;
    expect(cmd).toMatchObject({ status: "queued", type: "patch_install", actor_name: "admin@example.com" });
    expect(Math.abs((cmd?.expires_at.getTime() ?? 0) - Date.parse(r.endsAt))).toBeLessThan(5_000);
    const [u] = await srv.sql`select state, attempts from device_updates where device_id = ${deviceId}`;
    expect(u).toMatchObject({ state: "installing", attempts: 1 });
  });

  test("the device is woken through a neighbour, recorded with the patch window as the actor", async () => {
    const wake = await waitFor("a wake", async () => {
      const [w] = await srv.sql<{ actor_type: string; actor_name: string; outcome: string }[]>`
        select actor_type, actor_name, outcome from device_wakes where device_id = ${deviceId}`;
      return w;
    });
    expect(wake).toEqual({ actor_type: "schedule", actor_name: "patch window of Servers", outcome: "NO_WAKE_ADDRESS" });
  });

  test("the same window is not opened twice for its start; the audit names who opened it", async () => {
    const [audit] = await srv.sql`select actor_name, details from audit_log where action = 'patch.window_open'`;
    expect(audit?.actor_name).toBe("admin@example.com");
    expect(await srv.sql`select 1 from patch_window_runs where patch_policy_id = ${patchPolicyId}`).toHaveLength(1);
  });

  test("the daily compliance point: written for today (the scheduler rewrites it hourly), read back as history", async () => {
    await snapshotCompliance(srv.sql, await organizationsWithPatches(srv.sql), (o) => complianceSummary(srv.sql, o, null, {}, 14));
    const r = await json<{
      history: { day: string; devices: number; compliant: number; missingCritical: number; missingSecurity: number; failed: number }[];
    }>(srv.api("/api/v1/reports/patch-compliance"));
    const today = (await srv.sql<{ d: string }[]>`select to_char(current_date, 'YYYY-MM-DD') as d`)[0]?.d ?? "";
    expect(r.history).toEqual([{ day: today, devices: 1, compliant: 0, missingCritical: 0, missingSecurity: 1, failed: 0 }]);
  });

  test("scheduled scans: an online device never scanned is due; scanned, it is not until its interval passes", async () => {
    const [site] = await srv.sql<
      { organizationId: string; id: string }[]
    >`select organization_id as "organizationId", id from sites limit 1`;
    if (!site) throw new Error("no site");
    const awake = await device(srv.sql, {
      organizationId: site.organizationId,
      siteId: site.id,
      hostname: "awake-01",
      onlineOn: srv.server.services.nodeId,
    });
    const due = async () => (await devicesDueScan(srv.sql, 100)).map((d) => d.id);
    expect(await due()).toContain(awake);
    expect(await due()).not.toContain(deviceId); // offline
    await recordScan(srv.sql, site.organizationId, awake, { ...emptyScan }, new Date());
    expect(await due()).not.toContain(awake);
    await srv.sql`update device_patch_state set scanned_at = now() - interval '7 hours', attempted_at = now() - interval '7 hours' where device_id = ${awake}`;
    expect(await due()).toContain(awake);
    // a scan that failed a minute ago is not asked again at once
    await recordScanFailure(srv.sql, site.organizationId, awake, "AGENT_TIMEOUT");
    expect(await due()).not.toContain(awake);
  });
});
