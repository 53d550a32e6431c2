/**
 * Script fan-out: `--agents` simulated agents (scripts/loadgen, answering each command at once)
 * connected to a server; one `POST /api/v1/commands` runs a script on all of them; the time until
 * every per-device result is stored is measured from the database.
 *
 *   bun scripts/bench-commands.ts --agents 1000
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { startEmbeddedPostgres } from "../db/embedded.ts";
import { BENCH_ADMIN, startBenchServer } from "./lib/bench-server.ts";

const { values: opt } = parseArgs({ options: { agents: { type: "string", default: "1000" }, rounds: { type: "string", default: "3" } } });
const agents = Number(opt.agents);
const dir = mkdtempSync(join(tmpdir(), "sentpulse-fanout-"));
const pg = await startEmbeddedPostgres(dir);
const sql = postgres(pg.url, { max: 2, onnotice: () => {} });
const server = await startBenchServer({ SENTPULSE_DATABASE_URL: pg.url });
const loadgen = Bun.spawn(
  ["bun", "scripts/loadgen.ts", "--server", server.base, "--agents", String(agents), "--duration", "600", "--interval", "30", "--json"],
  {
    env: { ...process.env, ...BENCH_ADMIN },
    stdout: "ignore",
    stderr: "inherit",
  },
);
try {
  for (;;) {
    const r = (await (await fetch(`${server.base}/readyz`)).json()) as { agentsConnected: number };
    if (r.agentsConnected >= agents) break;
    await Bun.sleep(500);
  }
  const ids = (await sql<{ id: string }[]>`select id from devices order by id`).map((d) => d.id);
  const times: number[] = [];
  for (let round = 0; round < Number(opt.rounds); round++) {
    const t0 = performance.now();
    const res = await fetch(`${server.base}/api/v1/commands`, {
      method: "POST",
      headers: { cookie: server.cookie, "content-type": "application/json" },
      body: JSON.stringify({ deviceIds: ids, type: "run_script", payload: { language: "sh", content: "echo ok" } }),
    });
    if (res.status !== 202) throw new Error(`bulk command failed: ${res.status} ${await res.text()}`);
    const queuedMs = performance.now() - t0;
    const commandIds = ((await res.json()) as { items: { id: string }[] }).items.map((i) => i.id);
    for (;;) {
      const [row] = await sql<
        { n: number }[]
      >`select count(*)::int as n from commands where id = any(${commandIds}::uuid[]) and status = 'succeeded'`;
      if ((row?.n ?? 0) >= commandIds.length) break;
      await Bun.sleep(20);
    }
    const allMs = performance.now() - t0;
    times.push(allMs);
    console.log(
      JSON.stringify({ round, devices: commandIds.length, requestAnsweredMs: Math.round(queuedMs), allResultsStoredMs: Math.round(allMs) }),
    );
  }
  const sorted = [...times].sort((a, b) => a - b);
  console.log(JSON.stringify({ agents, medianAllResultsStoredMs: Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0) }));
} finally {
  loadgen.kill();
  await loadgen.exited;
  await server.stop();
  await sql.end();
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
