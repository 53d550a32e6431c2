/**
 * Device list API at fleet scale: a fresh embedded database seeded with `--devices` devices
 * (scripts/lib/seed-fleet.ts: 20 clients × 5 sites, tags, one sample each through the real ingest),
 * the server started on it (offline after a day, so the seeded statuses hold still), an API key (and
 * one limited to two clients), then `wrk -t2 -c50 -d<duration>s --latency` on each scenario
 * (Debian's `wrk`: apt-get install wrk). Prints per scenario the service time (300 requests one at a
 * time: p50, p99), then wrk's req/s, p50 and p99, with the load average before and after.
 *
 *   bun scripts/bench-list.ts --devices 100000 --duration 30
 *   bun scripts/bench-list.ts --devices 100000 --duration 30 --only list,search   # a subset
 *   bun scripts/bench-list.ts --devices 100000 --hold   # seed, print the URLs and the key, keep running (profiling)
 *   bun scripts/bench-list.ts --devices 100000 --pages 500   # each connection asks for one of 500 different pages
 *   bun scripts/bench-list.ts --devices 100000 --identity    # wrk without Accept-Encoding: gzip (uncompressed answers)
 *
 * wrk asks for one URL again and again; the server shares a read among identical requests in flight
 * (`SharedReads`), so that measures a dashboard crowd asking for the same page. `--pages N` follows
 * each scenario's cursors for up to N pages first and has wrk ask for a random one of them each time
 * (a Lua script), so nearly every request is a read of its own: what each distinct page costs.
 * wrk sends `Accept-Encoding: gzip` as browsers and fetch do, unless `--identity`.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { startEmbeddedPostgres } from "../db/embedded.ts";
import { type StatusScope, updateStatuses } from "../server/devices/status.store.ts";
import { startBenchServer } from "./lib/bench-server.ts";
import { seedFleet } from "./lib/seed-fleet.ts";
import { settle } from "./lib/settle.ts";

const { values: opt } = parseArgs({
  options: {
    devices: { type: "string", default: "100000" },
    duration: { type: "string", default: "30" },
    connections: { type: "string", default: "50" },
    only: { type: "string" },
    hold: { type: "boolean", default: false },
    pages: { type: "string" },
    identity: { type: "boolean", default: false },
  },
});
const round = (n: number) => Number(n.toFixed(2));

/** wrk's latency figures ("1.23ms", "850.00us", "1.02s") in ms. */
function toMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(v.trim());
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  return m[2] === "us" ? n / 1000 : m[2] === "ms" ? n : m[2] === "s" ? n * 1000 : n * 60_000;
}

/** CPU time (user + system, ms) of a process, 0 once it is gone. */
function cpuMs(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(f[11]) + Number(f[12])) * 10; // clock ticks of 10 ms
  } catch {
    return 0;
  }
}
/** CPU time of PostgreSQL: the postmaster and every process it started (backends come and go, so per pid). */
function postgresCpu(dataDir: string): Map<number, number> {
  const postmaster = Number(readFileSync(join(dataDir, "postgres", "postmaster.pid"), "utf8").split("\n")[0]);
  const out = new Map([[postmaster, cpuMs(postmaster)]]);
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      if (Number(stat.split(") ")[1]?.split(" ")[1]) === postmaster) out.set(Number(e), cpuMs(Number(e)));
    } catch {}
  }
  return out;
}
const cpuSpent = (before: Map<number, number>, after: Map<number, number>) =>
  [...after].reduce((sum, [pid, ms]) => sum + ms - (before.get(pid) ?? 0), 0);

const dir = mkdtempSync(join(tmpdir(), "sentpulse-bench-list-"));
const pg = await startEmbeddedPostgres(dir);
const sql = postgres(pg.url, { max: 4, onnotice: () => {} });
let server: Awaited<ReturnType<typeof startBenchServer>> | undefined;
try {
  // over the Unix socket, as the server reaches its own embedded PostgreSQL
  server = await startBenchServer({ SENTPULSE_DATABASE_URL: pg.socketUrl, SENTPULSE_OFFLINE_AFTER_S: "86400" });
  const [org] = await sql<{ id: string }[]>`select id from organizations order by created_at limit 1`;
  const t0 = performance.now();
  const fleet = await seedFleet(sql, org!.id, { devices: Number(opt.devices) });
  console.log(JSON.stringify({ seeded: Number(opt.devices), seconds: round((performance.now() - t0) / 1000) }));
  console.log(JSON.stringify({ settled: await settle(sql) }));
  // the status sweeps (one every 2 s on the server) over the seeded fleet: wall time and PostgreSQL CPU per sweep
  {
    const one = await sql.reserve();
    try {
      const [{ pid }] = (await one`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
      await one`set max_parallel_workers_per_gather = 0`;
      const windows = { onlineWindowS: 90, offlineAfterS: 86_400, nodeStaleS: 15 };
      // a full sweep (every 30 s on the server, and the first) and a recent one (the others)
      const measure = async (scope: StatusScope) => {
        for (let i = 0; i < 3; i++) await updateStatuses(one as never, windows, scope);
        const c0 = cpuMs(pid);
        const t0 = performance.now();
        for (let i = 0; i < 20; i++) await updateStatuses(one as never, windows, scope);
        return { ms: round((performance.now() - t0) / 20), postgresCpuMs: round((cpuMs(pid) - c0) / 20) };
      };
      console.log(JSON.stringify({ statusSweep: { full: await measure("all"), recent: await measure({ recentS: 10 }) } }));
    } finally {
      one.release();
    }
  }
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${server!.base}${path}`, { ...init, headers: { cookie: server!.cookie, "content-type": "application/json" } });
  const keyRes = await api("/api/v1/api-keys", { method: "POST", body: JSON.stringify({ name: "bench-list", role: "technician" }) });
  if (keyRes.status !== 201) throw new Error(`api key: ${keyRes.status} ${await keyRes.text()}`);
  const { key } = (await keyRes.json()) as { key: string };
  // a key limited to two of the twenty clients (a tenth of the fleet), when this server has such keys
  const scopedRes = await api("/api/v1/api-keys", {
    method: "POST",
    body: JSON.stringify({ name: "bench-list-scoped", role: "technician", clientIds: fleet.clientIds.slice(0, 2) }),
  });
  const scopedKey = scopedRes.status === 201 ? ((await scopedRes.json()) as { key: string }).key : undefined;

  const groupRes = await api("/api/v1/groups", { method: "POST", body: JSON.stringify({ name: "windows", expression: 'os = "windows"' }) });
  if (groupRes.status !== 201) throw new Error(`group: ${groupRes.status} ${await groupRes.text()}`);
  const { id: groupId } = (await groupRes.json()) as { id: string };
  let members = -1;
  for (let i = 0; i < 300; i++) {
    await Bun.sleep(1000);
    const { memberCount } = (await (await api(`/api/v1/groups/${groupId}`)).json()) as { memberCount: number };
    if (memberCount === members && memberCount > 0) break;
    members = memberCount;
  }

  const scenarios: [name: string, path: string, key?: string][] = [
    ["list", "/api/v1/devices?limit=50"],
    ["search", "/api/v1/devices?limit=50&q=sim-1"],
    ["search-narrow", "/api/v1/devices?limit=50&q=sim-4242"],
    // searches under other sorts: the matches picked from device_search first (a narrow one), or the
    // sort's index walked testing each row's text (a broad one)
    ["search-narrow-cpu", "/api/v1/devices?limit=50&q=sim-4242&sort=cpu&order=desc"],
    ["search-narrow-status", "/api/v1/devices?limit=50&q=sim-4242&sort=status"],
    ["search-status", "/api/v1/devices?limit=50&q=sim-1&sort=status"],
    ["tag", "/api/v1/devices?limit=50&tag=role%3Ddb"],
    ["sort-cpu", "/api/v1/devices?limit=50&sort=cpu&order=desc"],
    ["sort-memory", "/api/v1/devices?limit=50&sort=memory&order=desc"],
    ["sort-lastseen", "/api/v1/devices?limit=50&sort=lastSeen"],
    ["sort-status", "/api/v1/devices?limit=50&sort=status"],
    ["group", `/api/v1/devices?limit=50&groupId=${groupId}`],
    ["status-tag-cpu", "/api/v1/devices?limit=50&status=unresponsive&tag=env%3Dprod&sort=cpu&order=desc"],
    ...(scopedKey
      ? ([
          ["client-scoped", "/api/v1/devices?limit=50", scopedKey],
          ["client-scoped-cpu", "/api/v1/devices?limit=50&sort=cpu&order=desc", scopedKey],
        ] as [string, string, string][])
      : []),
  ];
  if (opt.hold) {
    console.log(JSON.stringify({ base: server.base, serverPid: server.pid, database: pg.url, key, scopedKey, groupId }));
    await new Promise<void>((done) => process.once("SIGINT", done));
  }
  const only = opt.hold ? [] : opt.only?.split(",");
  for (const [name, path, scenarioKey = key] of scenarios) {
    if (only && !only.includes(name)) continue;
    const check = await fetch(`${server.base}${path}`, { headers: { authorization: `Bearer ${scenarioKey}` } });
    const body = (await check.json()) as { items: unknown[]; total: number; totalExact: boolean };
    if (check.status !== 200) throw new Error(`${path}: ${check.status} ${JSON.stringify(body)}`);
    // service time: one request at a time (no queueing), 300 of them
    const one: number[] = [];
    for (let i = 0; i < 300; i++) {
      const t0 = performance.now();
      await (await fetch(`${server.base}${path}`, { headers: { authorization: `Bearer ${scenarioKey}` } })).arrayBuffer();
      one.push(performance.now() - t0);
    }
    one.sort((a, b) => a - b);
    // distinct pages: this scenario's own pages, found by following its cursors
    const paths = [path];
    for (let next = body as { nextCursor?: string | null }; paths.length < Number(opt.pages ?? 1) && next.nextCursor; ) {
      const page = `${path}&cursor=${next.nextCursor}`;
      paths.push(page);
      next = (await (await fetch(`${server.base}${page}`, { headers: { authorization: `Bearer ${scenarioKey}` } })).json()) as typeof next;
    }
    const script = join(dir, "pages.lua");
    await Bun.write(
      script,
      `local paths = {${paths.map((p) => JSON.stringify(p)).join(",")}}
local n = 0
function setup(thread) n = n + 1; thread:set("id", n) end
function init() math.randomseed(id * 7919 + os.time()) end
function request() return wrk.format(nil, paths[math.random(#paths)]) end
`,
    );
    const before = loadavg().map(round);
    const serverCpu0 = cpuMs(server.pid);
    const pgCpu0 = postgresCpu(dir);
    const wrk = Bun.spawn(
      [
        "wrk",
        "-t2",
        `-c${opt.connections}`,
        `-d${opt.duration}s`,
        "--latency",
        "-H",
        `Authorization: Bearer ${scenarioKey}`,
        ...(opt.identity ? [] : ["-H", "Accept-Encoding: gzip"]),
        ...(paths.length > 1 ? ["-s", script] : []),
        `${server.base}${path}`,
      ],
      { stdout: "pipe", stderr: "inherit" },
    );
    const out = await new Response(wrk.stdout).text();
    await wrk.exited;
    const serverCpu = cpuMs(server.pid) - serverCpu0;
    const pgCpu = cpuSpent(pgCpu0, postgresCpu(dir));
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
    const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
    const p50 = toMs(/^\s+50%\s+(\S+)/m.exec(out)?.[1] ?? "");
    const p99 = toMs(/^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? "");
    const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? "0";
    const socketErrors = /Socket errors: (.*)/.exec(out)?.[1] ?? "none";
    console.log(
      JSON.stringify({
        scenario: name,
        path: path.replace(groupId, "<group>"),
        rows: body.items.length,
        pages: paths.length,
        gzip: !opt.identity,
        total: body.total,
        totalExact: body.totalExact,
        sequentialP50ms: round(one[150] ?? 0),
        sequentialP99ms: round(one[297] ?? 0),
        reqPerSec: rps,
        p50ms: round(p50),
        p99ms: round(p99),
        // CPU per request under wrk: what the server process and PostgreSQL spent, over the requests served
        serverCpuMsPerReq: round(serverCpu / requests),
        postgresCpuMsPerReq: round(pgCpu / requests),
        non2xx: Number(errors),
        socketErrors,
        loadavgBefore: before,
        loadavgAfter: loadavg().map(round),
      }),
    );
  }
} finally {
  await server?.stop();
  await sql.end();
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
