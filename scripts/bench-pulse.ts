/**
 * Pulse benchmark: starts PostgreSQL (embedded, fresh) and a server process against it, runs
 * scripts/loadgen, and samples the server's and PostgreSQL's CPU and memory meanwhile; the server's own
 * ack latency histogram is read from /api/v1/metrics. Round trips are reported over the whole window,
 * the connect phase and the steady state.
 *
 *   bun scripts/bench-pulse.ts --agents 10000 --duration 60 --interval 5 [--procs 2] [--ramp 20]
 *
 * `--restart`: after `--after` seconds of steady state the server is stopped (SIGTERM) and started again
 * under the connected agents (same database and port). Reported: how long the shutdown took and whether
 * it logged an error, the time until every device is online again (from the stop and from the new
 * server's readiness), the round-trip p99 during the storm (from the stop to all online plus one
 * interval), and telemetry lost: for every device, acknowledged batches missing from the table.
 *
 * `--checkpoint-at S`: a checkpoint S seconds after the first connection, so that the window holds the
 * full-page images that follow one (PostgreSQL checkpoints every `checkpoint_timeout` or when the WAL
 * reaches `max_wal_size`; a short run otherwise measures a fleet between two).
 *
 * BENCH_PULSE_STATEMENTS=1: PostgreSQL loads pg_stat_statements (statements inside functions counted
 * too, planning timed) and the report lists the statements that took the most time, planning included.
 * BENCH_PULSE_PG="name=value;name=value": more PostgreSQL settings, and BENCH_PULSE_PG_LOG=file: its log
 * lines appended there (a diagnosis: `BENCH_PULSE_PG="log_min_duration_statement=200;log_checkpoints=on"`).
 * BENCH_PULSE_RAW=file: every round trip ([sent at, ms]) and CPU sample of the run written there as JSON.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { startEmbeddedPostgres } from "../db/embedded.ts";
import { BENCH_ADMIN, startBenchServer } from "./lib/bench-server.ts";
import { descendants, sampler } from "./lib/proc.ts";

const { values: opt } = parseArgs({
  options: {
    agents: { type: "string", default: "1000" },
    duration: { type: "string", default: "60" },
    interval: { type: "string", default: "5" },
    procs: { type: "string", default: "" },
    // seconds the fleet takes to connect (default: the load generator's, at the server's reconnect rate)
    ramp: { type: "string", default: "" },
    restart: { type: "boolean", default: false },
    after: { type: "string", default: "20" },
    // seconds after the first connection at which to ask PostgreSQL for a checkpoint: the full-page
    // images every page's first change after one writes, inside the window (a run shorter than the
    // checkpoint interval otherwise measures none)
    "checkpoint-at": { type: "string", default: "" },
  },
});
const agents = Number(opt.agents);
const intervalS = Number(opt.interval);
const dir = mkdtempSync(join(tmpdir(), "sentpulse-pulse-"));
const profileStatements = process.env.BENCH_PULSE_STATEMENTS === "1";
/** Appends PostgreSQL's log lines to a file, each prefixed with the time it was read. */
function pgLogTo(file: string | undefined): ((line: string) => void) | undefined {
  if (!file) return undefined;
  const out = Bun.file(file).writer();
  return (line) => {
    out.write(`${new Date().toISOString()} ${line.trimEnd()}\n`);
    out.flush();
  };
}
const extraSettings = (process.env.BENCH_PULSE_PG ?? "").split(";").filter((x) => x.includes("="));
const pg = await startEmbeddedPostgres(
  join(dir, "pg"),
  undefined,
  [
    ...(profileStatements
      ? ["shared_preload_libraries=pg_stat_statements", "pg_stat_statements.track=all", "pg_stat_statements.track_planning=on"]
      : []),
    ...extraSettings,
  ],
  pgLogTo(process.env.BENCH_PULSE_PG_LOG),
);
const sql = postgres(pg.url, { max: 2, onnotice: () => {} });
if (profileStatements) await sql`create extension if not exists pg_stat_statements`;
// the server reaches PostgreSQL over its Unix socket, as the zero-setup start does (`openDatabase` with the
// embedded database): loopback TCP costs both sides a network stack per query and per acknowledgement
// batch; BENCH_PULSE_TCP=1 measures over TCP (PostgreSQL on another host, the compose file)
const env = { SENTPULSE_DATABASE_URL: process.env.BENCH_PULSE_TCP === "1" ? pg.url : pg.socketUrl };
const logs: string[] = [];
const logFile = () => {
  const f = join(dir, `server-${logs.length}.log`);
  logs.push(f);
  return f;
};
/** PostgreSQL backends' pids (the server's pool and PostgreSQL's own processes), for CPU sampling. */
const pgPids = (() => {
  const pidFile = join(dir, "pg", "postgres", "postmaster.pid");
  return () => {
    const root = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
    return [root, ...descendants(root)];
  };
})();

/** CPU seconds (user + system) of a process so far; undefined once it is gone. */
function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return undefined;
  }
}

/** p50/p99/max of sorted round trips, ms. */
function stats(sorted: number[]) {
  const at = (p: number) => Number((sorted[Math.floor(sorted.length * p)] ?? Number.NaN).toFixed(2));
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: Number((sorted.at(-1) ?? Number.NaN).toFixed(2)) };
}

let server = await startBenchServer(env, { logFile: logFile() });
const raw = join(dir, "rtts.json");
try {
  const loadgen = Bun.spawn(
    [
      "bun",
      "scripts/loadgen.ts",
      "--server",
      server.base,
      "--agents",
      opt.agents,
      "--duration",
      opt.duration,
      "--interval",
      opt.interval,
      ...(opt.procs ? ["--procs", opt.procs] : []),
      ...(opt.ramp ? ["--ramp", opt.ramp] : []),
      ...(opt.restart ? ["--reconnect"] : []),
      "--raw",
      raw,
      "--json",
    ],
    { env: { ...process.env, ...BENCH_ADMIN }, stdout: "pipe", stderr: "inherit" },
  );
  const ready = async () => ((await (await fetch(`${server.base}/readyz`)).json()) as { agentsConnected: number }).agentsConnected;
  // resource use from the first connection on (enrollment excluded)
  while ((await ready()) === 0 && loadgen.exitCode === null) await Bun.sleep(200);
  await fetch(`${server.base}/api/v1/metrics/reset`, { method: "POST", headers: { cookie: server.cookie } });
  if (profileStatements) await sql`select pg_stat_statements_reset()`; // enrollment excluded
  let srv = sampler(() => [server.pid]);
  let serverBeforeRestart: ReturnType<typeof srv.stop> | undefined;
  // the server's CPU second by second (share of one core), to see it settle after refusals at the file limit
  const cpuSeries: [number, number][] = [];
  let lastCpu = cpuSecondsOf(server.pid);
  // the load generator's processes and PostgreSQL's, second by second: who else wants the cores
  const groupCpu = (pids: number[]) => {
    const per = new Map<number, number>();
    for (const p of pids) {
      const c = cpuSecondsOf(p);
      if (c !== undefined) per.set(p, c);
    }
    return per;
  };
  const others = { loadgen: [] as [number, number][], postgres: [] as [number, number][] };
  let lastOthers = { loadgen: groupCpu([loadgen.pid, ...descendants(loadgen.pid)]), postgres: groupCpu(pgPids()) };
  const cpuTimer = setInterval(() => {
    const now = cpuSecondsOf(server.pid);
    if (now !== undefined && lastCpu !== undefined && now >= lastCpu) cpuSeries.push([Date.now(), Math.round((now - lastCpu) * 100)]);
    lastCpu = now;
    const current = { loadgen: groupCpu([loadgen.pid, ...descendants(loadgen.pid)]), postgres: groupCpu(pgPids()) };
    for (const k of ["loadgen", "postgres"] as const) {
      let used = 0;
      for (const [p, c] of current[k]) used += c - (lastOthers[k].get(p) ?? c);
      others[k].push([Date.now(), Math.round(used * 100)]);
    }
    lastOthers = current;
  }, 1000);
  const db = sampler(pgPids, "pss");
  // what PostgreSQL's client backends are doing, sampled every 250 ms, summed per 10 s from the first
  // connection (CPU = active without a wait event), with the WAL written meanwhile and the WAL files' count
  const pgStart = Date.now();
  const pgWaits = new Map<
    number,
    {
      samples: number;
      waits: Record<string, number>;
      lockWaits?: Record<string, number>;
      statements?: Record<string, number>;
      walBytes?: number;
      walFiles?: number;
    }
  >();
  /** A statement's first words, to name who waits on a lock and who holds it. */
  const head = (q: string | null) => (q ?? "?").replace(/\s+/g, " ").slice(0, 48);
  const walAt = async () =>
    (
      await sql<{ lsn: string; walFiles: number }[]>`
        select pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text as lsn,
          (select count(*)::int from pg_ls_waldir()) as "walFiles"`
    )[0];
  let lastWal = await walAt().catch(() => undefined);
  let lastWindow = 0;
  const waitTimer = setInterval(async () => {
    const window = Math.floor((Date.now() - pgStart) / 10_000) * 10;
    const rows = await sql<{ wait: string; query: string | null; blocker: string | null }[]>`
      select coalesce(a.wait_event_type || ':' || a.wait_event, 'CPU') as wait, a.query,
        case when a.wait_event_type = 'Lock' then
          (select b.query from pg_stat_activity b where b.pid = any(pg_blocking_pids(a.pid)) limit 1) end as blocker
      from pg_stat_activity a
      where a.state = 'active' and a.backend_type = 'client backend' and a.pid <> pg_backend_pid()`.catch(() => []);
    const w = pgWaits.get(window) ?? { samples: 0, waits: {} };
    w.samples++;
    for (const r of rows) {
      w.waits[r.wait] = (w.waits[r.wait] ?? 0) + 1;
      w.statements ??= {};
      w.statements[head(r.query)] = (w.statements[head(r.query)] ?? 0) + 1;
      if (!r.wait.startsWith("Lock:")) continue;
      // which statement waits, on which one's locks (the blocker's current or last statement)
      const key = `${head(r.query)} <- ${head(r.blocker)}`;
      w.lockWaits ??= {};
      w.lockWaits[key] = (w.lockWaits[key] ?? 0) + 1;
    }
    pgWaits.set(window, w);
    if (window !== lastWindow) {
      const now = await walAt().catch(() => undefined);
      const prev = pgWaits.get(lastWindow);
      if (prev && now && lastWal) {
        prev.walBytes = Number(now.lsn) - Number(lastWal.lsn);
        prev.walFiles = now.walFiles - lastWal.walFiles;
      }
      lastWal = now;
      lastWindow = window;
    }
  }, 250);
  let checkpoint: { atS: number; tookS?: number } | undefined;
  const checkpointTimer = opt["checkpoint-at"]
    ? setTimeout(async () => {
        const at = Date.now();
        checkpoint = { atS: Math.round((at - pgStart) / 1000) };
        await sql`checkpoint`;
        checkpoint.tookS = (Date.now() - at) / 1000;
      }, Number(opt["checkpoint-at"]) * 1000)
    : undefined;
  let restart: Record<string, unknown> | undefined;
  let storm: [number, number] | undefined;
  if (opt.restart) {
    while ((await ready()) < agents && loadgen.exitCode === null) await Bun.sleep(500);
    await Bun.sleep(Number(opt.after) * 1000);
    const stopAt = Date.now();
    const old = server;
    serverBeforeRestart = srv.stop();
    await old.stop();
    const stoppedAt = Date.now();
    server = await startBenchServer(env, { port: old.port, logFile: logFile() });
    const readyAt = Date.now();
    srv = sampler(() => [server.pid]);
    lastCpu = undefined;
    let online = 0;
    for (;;) {
      // online again: status online, a socket held by a node, and telemetry stored since the stop
      [{ online }] = (await sql`
        select count(*)::int as online from devices d join device_latest l on l.device_id = d.id
        where d.status = 'online' and d.ws_node is not null and l.time > ${new Date(stopAt)}`) as unknown as [{ online: number }];
      if (online >= agents || Date.now() - stopAt > 180_000) break;
      await Bun.sleep(250);
    }
    const onlineAt = Date.now();
    storm = [stopAt, onlineAt + intervalS * 1000];
    restart = {
      shutdownSeconds: (stoppedAt - stopAt) / 1000,
      startSeconds: (readyAt - stoppedAt) / 1000,
      allOnline: online >= agents,
      allOnlineAfterStopS: (onlineAt - stopAt) / 1000,
      allOnlineAfterReadyS: (onlineAt - readyAt) / 1000,
    };
  }
  const out = await new Response(loadgen.stdout).text();
  clearInterval(cpuTimer);
  clearInterval(waitTimer);
  clearTimeout(checkpointTimer);
  const usage = { ...(serverBeforeRestart ? { serverBeforeRestart } : {}), server: srv.stop(), postgresPss: db.stop() };
  const metrics = (await fetch(`${server.base}/api/v1/metrics`, { headers: { cookie: server.cookie } })
    .then((r) => r.json())
    .catch((err) => ({ telemetryAckLatency: `unavailable: ${err}` }))) as {
    telemetryAckLatency: unknown;
    ingestFlushLatency?: unknown;
    ingest?: unknown;
    eventLoopDelay?: unknown;
  };
  const loadgenResult = JSON.parse(out.trim().split("\n").at(-1) ?? "{}");
  // PostgreSQL's own work that can stall a window: checkpoints and autovacuum / autoanalyze of the hot tables,
  // with their last times in seconds from the first connection
  const sinceStart = (at: Date | null) => (at ? Math.round((at.getTime() - pgStart) / 1000) : null);
  const background = await (async () => {
    const [cp] = await sql<{ timed: number; requested: number }[]>`
      select num_timed::int as timed, num_requested::int as requested from pg_stat_checkpointer`.catch(() =>
      sql<{ timed: number; requested: number }[]>`
        select checkpoints_timed::int as timed, checkpoints_req::int as requested from pg_stat_bgwriter`.catch(() => []),
    );
    const tables = await sql<
      { table: string; autovacuums: number; autoanalyzes: number; lastAutovacuum: Date | null; lastAutoanalyze: Date | null }[]
    >`
      select relname as table, autovacuum_count::int as autovacuums, autoanalyze_count::int as autoanalyzes,
        last_autovacuum as "lastAutovacuum", last_autoanalyze as "lastAutoanalyze"
      from pg_stat_user_tables where autovacuum_count + autoanalyze_count > 0 order by relname`.catch(() => []);
    // updates that had to write every index (not HOT): the cost of a hot row's indexes
    const updates = await sql<{ table: string; updates: number; hot: number }[]>`
      select relname as table, n_tup_upd::int as updates, n_tup_hot_upd::int as hot
      from pg_stat_user_tables where n_tup_upd > 1000 order by n_tup_upd desc limit 6`.catch(() => []);
    return {
      checkpoints: cp,
      updates,
      autovacuum: tables.map((t) => ({
        table: t.table,
        autovacuums: t.autovacuums,
        autoanalyzes: t.autoanalyzes,
        lastAutovacuumS: sinceStart(t.lastAutovacuum),
        lastAutoanalyzeS: sinceStart(t.lastAutoanalyze),
      })),
    };
  })();
  const rawData = JSON.parse(readFileSync(raw, "utf8")) as { rtts: [number, number][]; ackedMarks: Record<string, number> };
  if (restart && storm) {
    const [from, to] = storm;
    const during = rawData.rtts
      .filter(([at]) => at >= from && at < to)
      .map(([, r]) => r)
      .sort((a, b) => a - b);
    restart.stormRttMs = stats(during);
    // by 5 s from the stop, to see where the storm's time goes
    const slices = new Map<number, number[]>();
    for (const [at, r] of rawData.rtts) {
      if (at < from || at >= to) continue;
      const k = Math.floor((at - from) / 5000) * 5;
      const list = slices.get(k) ?? [];
      list.push(r);
      slices.set(k, list);
    }
    restart.stormBy5s = [...slices].sort((a, b) => a[0] - b[0]).map(([k, r]) => ({ fromS: k, ...stats(r.sort((a, b) => a - b)) }));
  }
  // every acknowledged batch must be in the table: seqs 1..mark of each device
  const ids = Object.keys(rawData.ackedMarks);
  const [loss] = await sql<{ acked: string; stored: string }[]>`
    select sum(v.mark)::bigint as acked, coalesce(sum(s.n), 0)::bigint as stored
    from unnest(${ids}::uuid[], ${ids.map((id) => rawData.ackedMarks[id] ?? 0)}::bigint[]) as v(id, mark)
    left join lateral (
      select count(distinct t.batch_seq) as n from device_telemetry t where t.device_id = v.id and t.batch_seq <= v.mark
    ) s on true`;
  const acked = Number(loss?.acked ?? 0);
  const stored = Number(loss?.stored ?? 0);
  const statementProfile = profileStatements
    ? (
        await sql<{ query: string; calls: number; execMs: number; planMs: number; rows: number }[]>`
          select left(regexp_replace(query, '[[:space:]]+', ' ', 'g'), 90) as query, calls::int, round(total_exec_time)::int as "execMs",
            round(total_plan_time)::int as "planMs", rows::int
          from pg_stat_statements order by total_exec_time + total_plan_time desc limit 25`
      ).map((r) => ({ ...r }))
    : undefined;
  const errorLines = logs.flatMap((f) => readFileSync(f, "utf8").split("\n")).filter((l) => l.includes('"level":"error"'));
  // the server's own warnings of a held event loop (≥ 250 ms, at most one per 10 s), seconds from the first connection
  const loopHeld = logs
    .flatMap((f) => readFileSync(f, "utf8").split("\n"))
    .filter((l) => l.includes('"event loop held"'))
    .map((l) => JSON.parse(l) as { t: string; ms: number })
    .map((l) => ({ atS: Math.round((Date.parse(l.t) - pgStart) / 100) / 10, ms: l.ms }));
  const refusedAt = Number(loadgenResult.lastRefusedAt) || 0;
  const afterRefusals =
    refusedAt > 0 && !opt.restart
      ? cpuSeries
          .filter(([at]) => at > refusedAt && at <= refusedAt + 15_000)
          .map(([at, cpu]) => ({ s: Math.round((at - refusedAt) / 1000), cpuPercent: cpu }))
      : undefined;
  const per10s = (series: [number, number][]) => {
    const by = new Map<number, number[]>();
    for (const [at, cpu] of series) {
      const k = Math.floor((at - pgStart) / 10_000) * 10;
      by.set(k, [...(by.get(k) ?? []), cpu]);
    }
    return [...by].map(([fromS, v]) => ({ fromS, cpuPercent: Math.round(v.reduce((a, b) => a + b, 0) / v.length) }));
  };
  const result = {
    loadgen: loadgenResult,
    ...(afterRefusals ? { serverCpuAfterLastRefusal: afterRefusals } : {}),
    serverAckLatency: metrics.telemetryAckLatency,
    serverFlushLatency: metrics.ingestFlushLatency,
    // how late the server's event loop ran a timer due every 20 ms (from the first connection)
    serverEventLoopDelay: metrics.eventLoopDelay,
    serverEventLoopHeld: loopHeld,
    // the ingest's counters: batches held back behind a refused one, refusals of a full queue, flushes
    serverIngest: metrics.ingest,
    postgresBackground: background,
    // the checkpoint asked for with --checkpoint-at: when (from the first connection) and how long it took
    ...(checkpoint ? { checkpoint } : {}),
    // the server's CPU per 10 s from the first connection (share of one core; its JavaScript runs on one)
    serverCpuPer10s: per10s(cpuSeries),
    // the same for the load generator's processes and PostgreSQL's (a new process counts from its first second)
    loadgenCpuPer10s: per10s(others.loadgen),
    postgresCpuPer10s: per10s(others.postgres),
    // per 10 s: active backends by wait event (summed over the 250 ms samples), WAL MB written
    postgresWaitsPer10s: [...pgWaits].map(([fromS, w]) => ({
      fromS,
      samples: w.samples,
      ...(w.walBytes !== undefined ? { walMb: Math.round(w.walBytes / 2 ** 20), walFilesChange: w.walFiles } : {}),
      waits: Object.fromEntries(
        Object.entries(w.waits)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 6),
      ),
      ...(w.lockWaits ? { lockWaits: w.lockWaits } : {}),
      // the statements active in those samples, most seen first
      statements: Object.fromEntries(
        Object.entries(w.statements ?? {})
          .sort((a, b) => b[1] - a[1])
          .slice(0, 6),
      ),
    })),
    ...(restart ? { restart } : {}),
    ...(statementProfile ? { statementProfile } : {}),
    telemetry: { acknowledgedBatches: acked, lost: acked - stored },
    serverErrorLines: errorLines.length,
    firstErrors: errorLines.slice(0, 3),
    ...usage,
  };
  console.log(JSON.stringify(result, null, 2));
  // BENCH_PULSE_RAW=file: every round trip and CPU sample kept for a closer look (epoch ms; CPU in % of one core)
  if (process.env.BENCH_PULSE_RAW)
    await Bun.write(
      process.env.BENCH_PULSE_RAW,
      JSON.stringify({
        firstConnectionAt: pgStart,
        rtts: rawData.rtts,
        server: cpuSeries,
        loadgen: others.loadgen,
        postgres: others.postgres,
      }),
    );
} finally {
  await server.stop();
  await sql.end();
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
