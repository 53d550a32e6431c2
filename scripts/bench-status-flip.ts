/**
 * What a device's status change costs PostgreSQL: a connect storm flips every device twice (offline →
 * unresponsive when its socket is held, → online in the telemetry flush of its first sample), and a
 * status change is never a HOT update (the status is indexed), so it writes an entry into every index
 * of `devices`. On a migrated schema with a seeded fleet (scripts/lib/seed-fleet.ts), each round flips
 * every device, 16 per statement like a flush, and reports PostgreSQL CPU and wall time per device and
 * the slowest statement; then with the tags index (GIN) without a pending list and with the default
 * 4 MB one (migration 00050 sets 256 kB: a GIN index's pending list is merged into the index by
 * whichever statement fills it), and with the trigram index `devices` had until migration 00050.
 *
 *   bun scripts/bench-status-flip.ts [--devices 19000] [--rounds 2]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { startEmbeddedPostgres } from "../db/embedded.ts";
import { migrate } from "../db/migrate.ts";
import { maintainPartitions } from "../server/telemetry/store.ts";
import { seedFleet } from "./lib/seed-fleet.ts";

const { values: opt } = parseArgs({
  options: { devices: { type: "string", default: "19000" }, rounds: { type: "string", default: "2" } },
});
const dir = mkdtempSync(join(tmpdir(), "sentpulse-status-flip-"));
const pg = await startEmbeddedPostgres(dir);
const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
try {
  await migrate(sql);
  await maintainPartitions(sql);
  const [org] = await sql<{ id: string }[]>`insert into organizations (name) values ('bench') returning id`;
  await seedFleet(sql, org!.id, { devices: Number(opt.devices) });
  const [{ pid }] = (await sql`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
  /** CPU ms of this connection's backend so far. */
  const cpuMs = () => {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8");
    const x = f.slice(f.lastIndexOf(")") + 2).split(" ");
    return (Number(x[11]) + Number(x[12])) * 10;
  };
  const ids = (await sql`select id from devices where organization_id = ${org!.id} order by id`).map((r) => String(r.id));
  const results: Record<string, unknown>[] = [];
  const flips = async (schema: string) => {
    const indexes = (await sql`select indexrelid::regclass::text as i from pg_index where indrelid = 'devices'::regclass`).map((r) => r.i);
    for (let round = 0; round < Number(opt.rounds); round++) {
      for (const status of ["unresponsive", "online"]) {
        await sql`checkpoint`;
        const c0 = cpuMs();
        const t0 = performance.now();
        let slowest = 0;
        for (let i = 0; i < ids.length; i += 16) {
          const s = performance.now();
          await sql`update devices set status = ${status}, status_changed_at = now() where id = any(${ids.slice(i, i + 16)}::uuid[])`;
          slowest = Math.max(slowest, performance.now() - s);
        }
        results.push({
          schema,
          round,
          status,
          postgresCpuUsPerDevice: Number((((cpuMs() - c0) * 1000) / ids.length).toFixed(1)),
          wallUsPerDevice: Number((((performance.now() - t0) * 1000) / ids.length).toFixed(1)),
          slowestStatementMs: Number(slowest.toFixed(1)),
        });
      }
      await sql`vacuum devices`;
    }
    return indexes.length;
  };
  const n = await flips("migrated");
  await sql`alter index devices_tags set (fastupdate = off)`;
  await flips("tags index without a pending list");
  await sql`alter index devices_tags reset (fastupdate, gin_pending_list_limit)`;
  await flips("tags index with the default 4 MB pending list");
  await sql`create index devices_search on devices using gin (search_text gin_trgm_ops)`;
  await flips("with the trigram index of migration 00026");
  console.log(JSON.stringify({ devices: ids.length, indexesOnDevices: n, results }, null, 2));
} finally {
  await sql.end();
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
