/**
 * Script checks at scale: `--agents` simulated agents (scripts/loadgen, answering each command at
 * once) on one server; one organization-wide `script_exit_code` rule checked every `--every`
 * seconds. Measures the server's CPU without and with the rule, the check runs completed per
 * second, and how regularly each device is checked (the gap between its consecutive runs).
 *
 *   bun scripts/bench-checks.ts --agents 5000 --every 30 --seconds 120
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { startEmbeddedPostgres } from "../db/embedded.ts";
import { BENCH_ADMIN, startBenchServer } from "./lib/bench-server.ts";

const { values: opt } = parseArgs({
  options: {
    agents: { type: "string", default: "5000" },
    every: { type: "string", default: "30" },
    seconds: { type: "string", default: "120" },
  },
});
const agents = Number(opt.agents);
const every = Number(opt.every);
const seconds = Number(opt.seconds);

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}
async function cpuShare(pid: number, ms: number): Promise<number> {
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  await Bun.sleep(ms);
  return ((cpuSeconds(pid) - c0) / ((performance.now() - t0) / 1000)) * 100;
}
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;

const dir = mkdtempSync(join(tmpdir(), "sentpulse-checks-"));
const pg = await startEmbeddedPostgres(dir);
const sql = postgres(pg.url, { max: 2, onnotice: () => {} });
const server = await startBenchServer({ SENTPULSE_DATABASE_URL: pg.url });
const loadgen = Bun.spawn(
  ["bun", "scripts/loadgen.ts", "--server", server.base, "--agents", String(agents), "--duration", "3600", "--interval", "10", "--json"],
  { env: { ...process.env, ...BENCH_ADMIN }, stdout: "ignore", stderr: "inherit" },
);
try {
  for (;;) {
    const r = (await (await fetch(`${server.base}/readyz`)).json()) as { agentsConnected: number };
    if (r.agentsConnected >= agents) break;
    await Bun.sleep(500);
  }
  await Bun.sleep(15_000); // every device online, enrollment settled
  const baseline = await cpuShare(server.pid, 30_000);

  const res = await fetch(`${server.base}/api/v1/alert-rules`, {
    method: "POST",
    headers: { cookie: server.cookie, "content-type": "application/json" },
    body: JSON.stringify({
      name: "Bench check",
      metric: "script_exit_code",
      operator: ">",
      threshold: 0,
      severity: "warning",
      check: { language: "sh", content: "exit 0", intervalSeconds: every },
    }),
  });
  if (res.status !== 201) throw new Error(`rule not created: ${res.status} ${await res.text()}`);
  await Bun.sleep((every + 10) * 1000); // the first round reaches everyone
  const from = new Date();
  const withChecks = await cpuShare(server.pid, seconds * 1000);
  const to = new Date();

  const [done] = await sql<{ n: number }[]>`
    select count(*)::int as n from commands
    where check_rule_id is not null and status = 'succeeded' and created_at >= ${from} and created_at < ${to}`;
  const gaps = (
    await sql<{ gap: number }[]>`
      select extract(epoch from created_at - lag(created_at) over (partition by device_id order by created_at))::float8 as gap
      from commands where check_rule_id is not null and created_at >= ${from} and created_at < ${to}`
  )
    .map((r) => r.gap)
    .filter((g) => g !== null)
    .sort((a, b) => a - b);
  const checked = await sql<{ n: number }[]>`
    select count(distinct device_id)::int as n from commands where check_rule_id is not null and created_at >= ${from} and created_at < ${to}`;
  console.log(
    JSON.stringify({
      agents,
      everySeconds: every,
      windowSeconds: seconds,
      devicesChecked: checked[0]?.n ?? 0,
      checksPerSecond: Math.round(((done?.n ?? 0) / seconds) * 10) / 10,
      gapSeconds: {
        p50: Math.round(pct(gaps, 50) * 10) / 10,
        p99: Math.round(pct(gaps, 99) * 10) / 10,
        max: Math.round((gaps.at(-1) ?? 0) * 10) / 10,
      },
      serverCpuPercent: { baseline: Math.round(baseline * 10) / 10, withChecks: Math.round(withChecks * 10) / 10 },
    }),
  );
} finally {
  loadgen.kill();
  await loadgen.exited;
  await server.stop();
  await sql.end();
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
