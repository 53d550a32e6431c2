/**
 * Fills a database with a fleet for list benchmarks: `clients` clients with `sitesPerClient` sites
 * each, `devices` devices spread over them (hostnames `sim-1` … `sim-N`, Linux/Windows/macOS, tags
 * `env=`, `role=`, `rack=`; a tenth offline, the rest unresponsive), and one telemetry sample per device sent through the
 * server's own `Ingestor` (COPY, batch marks and the `device_latest` row, as agents' batches are).
 * Devices go in with one INSERT … SELECT per 10,000 (enrolling 100,000 agents over HTTP would take
 * an hour and measure enrollment, not the list).
 */
import type { Sql } from "postgres";
import { Ingestor } from "../../server/telemetry/ingest.ts";
import { sample } from "../../server/testing/fixtures.ts";

const ROLES = ["web", "db", "cache", "worker", "edge"] as const;

export async function seedFleet(
  sql: Sql,
  organizationId: string,
  opt: { devices: number; clients?: number; sitesPerClient?: number },
): Promise<{ siteIds: string[]; clientIds: string[] }> {
  const clients = opt.clients ?? 20;
  const perClient = opt.sitesPerClient ?? 5;
  const clientIds: string[] = [];
  const siteIds: string[] = [];
  for (let c = 0; c < clients; c++) {
    const [client] = await sql<{ id: string }[]>`
      insert into clients (organization_id, name) values (${organizationId}, ${`Client ${String(c + 1).padStart(2, "0")}`}) returning id`;
    clientIds.push(client!.id);
    for (let s = 0; s < perClient; s++) {
      const [site] = await sql<{ id: string }[]>`
        insert into sites (organization_id, client_id, name) values (${organizationId}, ${client!.id}, ${`Site ${s + 1}`}) returning id`;
      siteIds.push(site!.id);
    }
  }
  const CHUNK = 10_000;
  for (let from = 1; from <= opt.devices; from += CHUNK) {
    const to = Math.min(opt.devices, from + CHUNK - 1);
    await sql`
      insert into devices (organization_id, site_id, hostname, os, os_name, os_version, serial_number, arch, agent_version,
                           tags, status, last_seen_at, secret_hash)
      select ${organizationId}, (${siteIds}::uuid[])[1 + (i % ${siteIds.length})], 'sim-' || i,
        (array['linux', 'windows', 'darwin'])[1 + (i % 3)],
        (array['Debian GNU/Linux', 'Windows Server 2022', 'macOS'])[1 + (i % 3)],
        (array['12', '10.0.20348', '14.5'])[1 + (i % 3)],
        'SN' || lpad(to_hex(i * 7919), 8, '0'), 'x64', '1.0.0',
        array['env=' || (array['prod', 'staging', 'dev'])[1 + (i % 3)],
              'role=' || (${[...ROLES]}::text[])[1 + (i % 5)],
              'rack=' || (i % 100)],
        'offline', now(), '\\x00'
      from generate_series(${from}::int, ${to}::int) as i`;
  }
  const devices = await sql<{ id: string; hostname: string }[]>`
    select id, hostname from devices where organization_id = ${organizationId} and hostname like 'sim-%'`;
  const ingest = new Ingestor(sql, { maxRowsPerFlush: 10_000 });
  const now = Date.now();
  for (let i = 0; i < devices.length; i += 5000) {
    await Promise.all(
      devices.slice(i, i + 5000).map((d, j) => {
        const n = i + j;
        const s = sample(new Date(now - (n % 60) * 1000), ((n * 37) % 1000) / 10);
        s.memoryUsedBytes = (((n * 13) % 100) / 100) * s.memoryTotalBytes;
        const root = s.mounts[0]!;
        root.usedBytes = (((n * 29) % 100) / 100) * root.totalBytes;
        return ingest.submit(d.id, organizationId, { seq: 1, samples: [s] });
      }),
    );
  }
  await ingest.drain();
  // Statuses that hold still while a benchmark runs (no socket holds these devices, so none can be
  // online; run the server with SENTPULSE_OFFLINE_AFTER_S=86400 so the status sweep agrees): a
  // tenth offline, last seen two days ago, the rest unresponsive.
  await sql`
    update devices set status = case when substr(hostname, 5)::int % 10 = 0 then 'offline' else 'unresponsive' end,
      last_seen_at = case when substr(hostname, 5)::int % 10 = 0 then now() - interval '2 days' else last_seen_at end
    where organization_id = ${organizationId} and hostname like 'sim-%'`;
  await sql`
    update device_latest l set seen_at = now() - interval '2 days', sort_seen = now() - interval '2 days'
    from devices d
    where d.id = l.device_id and d.organization_id = ${organizationId}
      and case when d.hostname ~ '^sim-[0-9]+$' then substr(d.hostname, 5)::int % 10 = 0 else false end`;
  await sql`analyze devices`;
  await sql`analyze device_latest`;
  // device_search changes only with searchable facts: by the time a fleet this size had grown,
  // autovacuum would have left it analyzed and all-visible (its walk index-only)
  await sql`vacuum analyze device_search`;
  return { siteIds, clientIds };
}
