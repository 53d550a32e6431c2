/**
 * Patch management's figures (issue 15):
 *  1. a scan of this machine by the real compiled agent (dpkg inventory and apt's pending updates from
 *     the machine's own lists, not refreshed: no network): duration as the agent measures it and wall
 *     time through the API, and the agent's resident memory before and at its peak (VmHWM);
 *  2. the inventory on the wire for 2,000 packages: the whole list the first time, then a delta (one
 *     upgraded, one installed, one removed) and an unchanged scan, as the JSON the agent sends;
 *  3. the compliance report at `--devices` devices × `--updates` pending updates each (JSON first page,
 *     summary included; and the CSV of every device), `--requests` sequential requests, p50/p99; and the
 *     update lists, filtered and searched (`q`: a CVE id many devices have, one no update has, a name).
 *     `--scans 0` leaves out the agent's scan of this machine;
 *  4. scans with the agent's dnf and zypper code (Debian's dnf and zypper) against the rpm repository of
 *     the tests (5 packages, 4 advisories), `--rpm-scans` each, durations (0 leaves it out).
 *
 *   bun scripts/bench-patches.ts --devices 10000 --updates 50 --requests 30
 */

import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { gzipSync } from "bun";
import { diffInventory, inventoryHash, inventoryPayload, normalise } from "../agent/patch/inventory.ts";
import { parseDpkgQuery } from "../agent/platform/linux-patch-parse.ts";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedPostgres } from "../db/embedded.ts";

const { values: opt } = parseArgs({
  options: {
    devices: { type: "string", default: "10000" },
    updates: { type: "string", default: "50" },
    requests: { type: "string", default: "30" },
    scans: { type: "string", default: "5" },
    "rpm-scans": { type: "string", default: "5" },
  },
});
const ms = (t: number) => Number(t.toFixed(1));
const mb = (b: number) => Number((b / 1024 / 1024).toFixed(1));
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? 0;
const status = (pid: number, key: string) =>
  Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
const out = (o: Record<string, unknown>) => console.log(JSON.stringify(o));

out({ loadavgAtStart: loadavg().map((x) => Number(x.toFixed(2))), cpus: navigator.hardwareConcurrency });

// 2. the inventory on the wire
{
  const real = parseDpkgQuery(readFileSync("agent/test-data/patch/linux/dpkg-query.debian12.txt", "utf8")).map((i) => ({
    ...i,
    installedAt: 1_700_000_000_000,
  }));
  const items = Array.from({ length: 2000 }, (_, n) => {
    const base = real[n % real.length] as (typeof real)[number];
    return { ...base, name: n < real.length ? base.name : `${base.name}-${Math.floor(n / real.length)}` };
  });
  const first = normalise(items);
  const full = inventoryPayload({ hash: inventoryHash(first.items), ...first }, undefined, null);
  const next = [
    ...items.slice(1),
    { ...(items[0] as (typeof real)[number]), name: "zoom", version: "6.0.2", publisher: "Zoom Video Communications" },
  ];
  next[5] = { ...(next[5] as (typeof real)[number]), version: `${next[5]?.version}+deb12u1` };
  const second = normalise(next);
  const last = { hash: inventoryHash(first.items), items: first.items };
  const delta = inventoryPayload({ hash: inventoryHash(second.items), ...second }, last, last.hash);
  const same = inventoryPayload({ hash: inventoryHash(second.items), ...second }, undefined, inventoryHash(second.items));
  const size = (p: unknown) => ({ jsonBytes: JSON.stringify(p).length, gzipBytes: gzipSync(JSON.stringify(p)).length });
  out({
    run: "inventory on the wire, 2,000 packages",
    full: size(full),
    delta: {
      ...size(delta),
      ...Object.fromEntries(Object.entries(diffInventory(first.items, second.items)).map(([k, v]) => [k, v.length])),
    },
    same: size(same),
  });
}

// 4. dnf and zypper scans with the agent's code, against the tests' rpm repository
if (Number(opt["rpm-scans"]) > 0) {
  const { rpmRepo } = await import("../server/testing/rpm-repo.ts");
  const { dnfPending, zypperPending } = await import("../agent/platform/linux-patch.ts");
  const repo = rpmRepo("bench");
  try {
    for (const [label, scan] of [
      [
        "dnf (check-update, updateinfo list, updateinfo list --with-cve, rpm -qa)",
        (r: boolean) => dnfPending(r, { dnf: repo.dnf, zypper: [], rpm: repo.rpmDnf }),
      ],
      ["zypper (--xmlout list-patches)", (r: boolean) => zypperPending(r, { dnf: [], zypper: repo.zypper, rpm: repo.rpmZypper })],
    ] as const) {
      const times: number[] = [];
      let updates = 0;
      for (let i = 0; i < Number(opt["rpm-scans"]); i++) {
        const t = performance.now();
        // the first one refreshes the metadata, as a scheduled scan does
        const r = await scan(i === 0);
        times.push(performance.now() - t);
        updates = r.updates.length;
        if (r.problems.length > 0) throw new Error(JSON.stringify(r.problems));
      }
      out({ run: `scan: ${label}`, updates, ms: times.map(ms) });
    }
  } finally {
    repo.cleanup();
  }
}

// the test harness's server (in this process) on an embedded PostgreSQL of the benchmark's own
const pgDir = mkdtempSync(join(tmpdir(), "sentpulse-bench-pg-"));
const pg = await startEmbeddedPostgres(pgDir);
process.env.SENTPULSE_TEST_PG_URL = pg.url.replace(/\/sentpulse$/, "/postgres");
const { startTestServer, waitFor } = await import("../server/testing/harness.ts");
const { enrollRealAgent } = await import("../server/testing/agents.ts");
const srv = await startTestServer({ telemetryIntervalS: 30 });
try {
  // 1. a real scan of this machine
  if (Number(opt.scans) > 0) {
    const agent = await enrollRealAgent(srv);
    const proc = agent.start();
    await waitFor(
      "online",
      async () => (await srv.sql`select status from devices where id = ${agent.deviceId}`)[0]?.status === "online",
      30_000,
    );
    await Bun.sleep(2000);
    const idle = status(proc.pid, "VmRSS");
    const runs: { durationMs: number; wallMs: number; mode: string; updates: number }[] = [];
    for (let i = 0; i < Number(opt.scans); i++) {
      const t0 = performance.now();
      const res = await srv.api(`/api/v1/devices/${agent.deviceId}/updates/scan?refresh=false`, { method: "POST" });
      const r = (await res.json()) as { durationMs: number; updates: number; inventory: { mode: string; items: number | null } };
      if (res.status !== 200) throw new Error(`scan: ${res.status} ${JSON.stringify(r)}`);
      runs.push({ durationMs: r.durationMs, wallMs: ms(performance.now() - t0), mode: r.inventory.mode, updates: r.updates });
    }
    const [state] = await srv.sql`select inventory_items from device_patch_state where device_id = ${agent.deviceId}`;
    out({
      run: "scan of this machine (dpkg + apt-get -s dist-upgrade, lists not refreshed)",
      packages: state?.inventory_items,
      scans: runs,
      agentRssIdleMB: mb(idle),
      agentRssPeakMB: mb(status(proc.pid, "VmHWM")),
      agentRssAfterMB: mb(status(proc.pid, "VmRSS")),
    });
    await agent.stop();
  }

  // 3. compliance at fleet scale
  {
    const devices = Number(opt.devices);
    const per = Number(opt.updates);
    const [site] = await srv.sql<
      { organizationId: string; id: string }[]
    >`select organization_id as "organizationId", id from sites order by created_at limit 1`;
    if (!site) throw new Error("no site");
    const t0 = performance.now();
    await srv.sql`
      insert into devices (id, organization_id, site_id, hostname, os, secret_hash, tags, status)
      select gen_random_uuid(), ${site.organizationId}, ${site.id}, 'bench-' || lpad(g::text, 6, '0'), 'linux', '\\x00'::bytea, '{}', 'offline'
      from generate_series(1, ${devices}) g`;
    await srv.sql`
      insert into device_patch_state (device_id, organization_id, inventory_items, scanned_at, last_outcome, attempted_at)
      select id, organization_id, 1500, now() - interval '1 hour', 'ok', now() - interval '1 hour' from devices where hostname like 'bench-%'`;
    // per device: updates 1–2 critical, 3–10 security (each with an advisory and a CVE id), the rest
    // other; a tenth of the devices fully patched (resolved)
    await srv.sql`
      insert into device_updates (organization_id, device_id, source, name, title, current_version, version, classification, ids, state, first_seen_at, last_seen_at)
      select d.organization_id, d.id, 'apt', 'pkg-' || u, 'pkg-' || u || ' 2.0', '1.0', '2.0',
        case when u <= 2 then 'critical' when u <= 10 then 'security' else 'other' end,
        case when u <= 10 then array['DSA-' || (5000 + u) || '-1', 'CVE-2026-' || lpad(u::text, 5, '0')] else '{}'::text[] end,
        case when right(d.hostname, 1) = '0' then 'resolved' when u = 3 and right(d.hostname, 1) = '7' then 'failed' else 'pending' end,
        now() - (u || ' days')::interval, now() - interval '1 hour'
      from devices d cross join generate_series(1, ${per}) u where d.hostname like 'bench-%'`;
    // the counts a scan leaves on each device's state row
    const { refreshCounts } = await import("../server/patches/updates.store.ts");
    const ids = (await srv.sql<{ id: string }[]>`select id from devices where hostname like 'bench-%'`).map((r) => r.id);
    for (let i = 0; i < ids.length; i += 1000) await refreshCounts(srv.sql, ids.slice(i, i + 1000));
    await srv.sql`analyze`;
    out({ run: "seeded", devices, updatesPerDevice: per, rows: devices * per, seedSeconds: ms((performance.now() - t0) / 1000) });
    const measure = async (label: string, path: string, n: number) => {
      const times: number[] = [];
      let bytes = 0;
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        const res = await fetch(`${srv.url}${path}`, { headers: { cookie: srv.cookie } });
        bytes = (await res.arrayBuffer()).byteLength;
        if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
        times.push(performance.now() - t);
      }
      out({
        run: label,
        requests: n,
        bytes,
        p50ms: ms(quantile(times, 0.5)),
        p99ms: ms(quantile(times, 0.99)),
        maxms: ms(Math.max(...times)),
      });
    };
    const n = Number(opt.requests);
    await measure("GET /api/v1/reports/patch-compliance (summary + worst 1,000 devices)", "/api/v1/reports/patch-compliance", n);
    await measure("GET /api/v1/reports/patch-compliance?limit=100", "/api/v1/reports/patch-compliance?limit=100", n);
    await measure(
      "GET /api/v1/reports/patch-compliance?format=csv (every device)",
      "/api/v1/reports/patch-compliance?format=csv",
      Math.min(n, 10),
    );
    await measure(
      "GET /api/v1/reports/patch-compliance?format=pdf (every device)",
      "/api/v1/reports/patch-compliance?format=pdf",
      Math.min(n, 5),
    );
    await measure(
      "GET /api/v1/updates?classification=critical&limit=100",
      "/api/v1/updates?classification=critical&limit=100",
      Math.min(n, 10),
    );
    await measure(
      "GET /api/v1/updates?approval=awaiting&state=pending&limit=500 (the Patches page)",
      "/api/v1/updates?approval=awaiting&state=pending&limit=500",
      Math.min(n, 10),
    );
    await measure(
      "GET /api/v1/updates?q=CVE-2026-00003&limit=500 (a CVE id of one update on 9 devices in 10)",
      "/api/v1/updates?q=CVE-2026-00003&limit=500",
      Math.min(n, 10),
    );
    await measure(
      "GET /api/v1/updates?q=CVE-1999-0001&limit=500 (a CVE id no update has)",
      "/api/v1/updates?q=CVE-1999-0001&limit=500",
      Math.min(n, 10),
    );
    await measure("GET /api/v1/updates?q=pkg-4&limit=500 (a package name's start)", "/api/v1/updates?q=pkg-4&limit=500", Math.min(n, 10));
  }
  out({ loadavgAtEnd: loadavg().map((x) => Number(x.toFixed(2))) });
} finally {
  await srv.stop();
  await pg.stop();
  rmSync(pgDir, { recursive: true, force: true });
}
