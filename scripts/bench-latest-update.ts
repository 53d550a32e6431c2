/**
 * What the latest-state row's indexes cost each telemetry flush: PostgreSQL CPU per row of an update
 * shaped like the flush's (16 devices a statement, every column the flush writes), on a 19,000-row copy
 * of `device_latest` with its four sort indexes (`(organization_id, <column>, device_id)` on cpu, memory,
 * disk, seen_at) and without them (then updates are HOT: no index entry written). Own scratch tables in a
 * fresh embedded PostgreSQL; nothing of the product's schema is used or changed.
 *
 *   bun scripts/bench-latest-update.ts [--rows 19000] [--rounds 8]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { startEmbeddedPostgres } from "../db/embedded.ts";

const { values: opt } = parseArgs({
  options: { rows: { type: "string", default: "19000" }, rounds: { type: "string", default: "8" } },
});
const rows = Number(opt.rows);
const dir = mkdtempSync(join(tmpdir(), "sentpulse-latest-"));
const pg = await startEmbeddedPostgres(dir);
const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
const [{ pid }] = (await sql`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
/** CPU ms of this connection's backend so far. */
const cpuMs = () => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8");
  const x = f.slice(f.lastIndexOf(")") + 2).split(" ");
  return (Number(x[11]) + Number(x[12])) * 10;
};
try {
  const results: Record<string, unknown>[] = [];
  for (const [name, indexed] of [
    ["indexed", true],
    ["no_sort_indexes", false],
    ["indexed_again", true],
  ] as const) {
    const t = `latest_${name}`;
    await sql.unsafe(`create table ${t} (device_id uuid primary key, organization_id uuid not null, time timestamptz not null,
      seen_at timestamptz not null, cpu_percent real not null, memory_percent real not null, disk_percent real not null,
      swap_percent real not null, load1 real not null, network_rx_bps float8 not null, network_tx_bps float8 not null,
      uptime_seconds bigint not null, batch_seq bigint not null default 0)`);
    if (indexed)
      for (const c of ["cpu_percent", "memory_percent", "disk_percent", "seen_at"])
        await sql.unsafe(`create index on ${t} (organization_id, ${c}, device_id)`);
    await sql.unsafe(`insert into ${t} select gen_random_uuid(), '00000000-0000-0000-0000-000000000001', now(), now(),
      random() * 100, random() * 100, random() * 100, 0, 0, 0, 0, 0 from generate_series(1, ${rows})`);
    const ids = (await sql.unsafe(`select device_id from ${t} order by device_id`)).map((r) => String(r.device_id));
    const c0 = cpuMs();
    const t0 = performance.now();
    let updated = 0;
    for (let round = 0; round < Number(opt.rounds); round++) {
      for (let i = 0; i < ids.length; i += 16) {
        const batch = ids.slice(i, i + 16);
        await sql.unsafe(
          `update ${t} l set batch_seq = l.batch_seq + 1, seen_at = now(), time = now(), cpu_percent = random() * 100,
            memory_percent = l.memory_percent + 0.1, disk_percent = l.disk_percent, load1 = random()
          from unnest($1::uuid[]) u(id) where l.device_id = u.id`,
          [batch],
        );
        updated += batch.length;
      }
    }
    const wallUs = ((performance.now() - t0) * 1000) / updated;
    const cpuUs = ((cpuMs() - c0) * 1000) / updated;
    const [st] = await sql.unsafe(
      `select n_tup_upd::int as updates, n_tup_hot_upd::int as hot from pg_stat_user_tables where relname = '${t}'`,
    );
    results.push({
      table: name,
      rows,
      updated,
      wallUsPerRow: Number(wallUs.toFixed(1)),
      postgresCpuUsPerRow: Number(cpuUs.toFixed(1)),
      ...st,
    });
  }
  console.log(JSON.stringify(results, null, 2));
} finally {
  await sql.end();
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
