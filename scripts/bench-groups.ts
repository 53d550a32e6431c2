/**
 * Smart-group membership cost: 100 groups and 10,000 devices in one organization, stored samples fed
 * to the GroupEngine as the bus does after each commit (batches of 500). A quiet run (no membership
 * changes, the common case), a run where a tenth of the devices cross a CPU threshold back and forth
 * (joins and leaves written), the first full evaluation of a group, and the device list filtered by a
 * group (the store query behind GET /devices?groupId= and GET /groups/:id/devices).
 *
 *   bun scripts/bench-groups.ts --devices 10000 --groups 100 --samples 100000
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { startEmbeddedPostgres } from "../db/embedded.ts";
import { migrate } from "../db/migrate.ts";
import { listDevices } from "../server/devices/store.ts";
import { LocalBus, type StoredSample } from "../server/events/bus.ts";
import { GroupEngine } from "../server/groups/engine.ts";
import { insertGroup } from "../server/groups/store.ts";
import { summarize } from "../server/telemetry/rows.ts";
import { sample } from "../server/testing/fixtures.ts";

const { values: opt } = parseArgs({
  options: {
    devices: { type: "string", default: "10000" },
    groups: { type: "string", default: "100" },
    samples: { type: "string", default: "100000" },
  },
});
const ms = (t: number) => Number(t.toFixed(2));
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? 0;

/** A mix of expressions: facts, tags, place, status and telemetry, two to four comparisons each. */
function expression(i: number): string {
  switch (i % 5) {
    case 0:
      return `os = "linux" and tag.role = "server" and cpu > ${80 + (i % 10)}`;
    case 1:
      return `os = "windows" and os_version ~ "Server 2019" and memory > ${50 + (i % 40)}`;
    case 2:
      return `not (status = "offline") and hostname ~ "^h-${i % 10}"`;
    case 3:
      return `has tag.env and (disk > ${90 + (i % 9)} or load1 > ${10 + i})`;
    default:
      return `site = "s" and tag.env = "prod" and cpu_cores >= 4 and cpu < ${i % 20}`;
  }
}

console.log(JSON.stringify({ loadavgAtStart: loadavg().map((x) => ms(x)) }));
const dir = mkdtempSync(join(tmpdir(), "sentpulse-groups-"));
const pg = await startEmbeddedPostgres(dir);
const sql = postgres(pg.url, { max: 5, onnotice: () => {} });
try {
  await migrate(sql);
  const [org] = await sql<{ id: string }[]>`insert into organizations (name) values ('bench') returning id`;
  const [client] = await sql<{ id: string }[]>`insert into clients (organization_id, name) values (${org!.id}, 'c') returning id`;
  const [site] = await sql<
    { id: string }[]
  >`insert into sites (organization_id, client_id, name) values (${org!.id}, ${client!.id}, 's') returning id`;
  const n = Number(opt.devices);
  const devices = Array.from({ length: n }, () => Bun.randomUUIDv7());
  await sql`insert into devices (id, organization_id, site_id, hostname, os, os_version, cpu_cores, status, secret_hash, tags)
            select id, ${org!.id}, ${site!.id}, 'h-' || ord, case when ord % 3 = 0 then 'windows' else 'linux' end,
              case when ord % 3 = 0 then 'Windows Server 2019' else '12' end, 8, 'online', '\\x00',
              case when ord % 2 = 0 then '{env=prod,role=server}'::text[] else '{env=dev}'::text[] end
            from unnest(${devices}::uuid[]) with ordinality as u(id, ord)`;
  const groups: string[] = [];
  for (let i = 0; i < Number(opt.groups); i++)
    groups.push(await insertGroup(sql, org!.id, { name: `group ${i}`, expression: expression(i) }));

  const engine = new GroupEngine(sql, new LocalBus());
  let t0 = performance.now();
  await engine.groupChanged(org!.id);
  const [{ members }] = (await sql`select count(*)::int as members from device_group_members`) as unknown as [{ members: number }];
  console.log(JSON.stringify({ run: "first evaluation of every group over every device", ms: ms(performance.now() - t0), members }));

  let clock = Date.now() - 10 * Number(opt.samples);
  const run = async (label: string, cpuFor: (i: number) => number) => {
    const total = Number(opt.samples);
    const before = await sql<{ n: number }[]>`select count(*)::int as n from device_group_history`;
    t0 = performance.now();
    for (let i = 0; i < total; i += 500) {
      const stored: StoredSample[] = [];
      for (let j = i; j < Math.min(total, i + 500); j++) {
        const s = sample(new Date(clock++), cpuFor(j)); // each sample newer than the last
        stored.push({ deviceId: devices[j % n]!, organizationId: org!.id, sample: s, summary: summarize(s) });
      }
      await engine.telemetryStored(stored);
    }
    const wall = performance.now() - t0;
    const after = await sql<{ n: number }[]>`select count(*)::int as n from device_group_history`;
    console.log(
      JSON.stringify({
        run: label,
        samples: total,
        predicateChecks: total * groups.length,
        membershipChanges: after[0]!.n - before[0]!.n,
        microsecondsPerSample: ms((wall / total) * 1000),
      }),
    );
  };
  await run("warm-up", () => 10);
  await run("quiet (no membership changes)", () => 10);
  // every 10th device alternates 95 % / 10 % CPU between its visits: joins and leaves of the cpu > 8x groups
  await run("a tenth of the devices crossing 80 % CPU each visit (joins and leaves written)", (j) =>
    (j % n) % 10 === 1 ? (Math.floor(j / n) % 2 === 0 ? 95 : 10) : 10,
  );

  // the device list filtered by the largest group, first page of 100, as the API asks the store
  const [largest] = await sql<{ id: string; n: number }[]>`
    select group_id as id, count(*)::int as n from device_group_members group by group_id order by n desc limit 1`;
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    t0 = performance.now();
    await listDevices(sql, org!.id, { groupId: largest!.id }, { limit: 100 });
    times.push(performance.now() - t0);
  }
  console.log(
    JSON.stringify({
      run: "device list filtered by a group (store query, first page of 100)",
      groupMembers: largest!.n,
      p50ms: ms(quantile(times, 0.5)),
      p99ms: ms(quantile(times, 0.99)),
    }),
  );
  console.log(JSON.stringify({ loadavgAtEnd: loadavg().map((x) => ms(x)) }));
} finally {
  await sql.end();
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
