/**
 * Dashboard benchmark: a server with 10,000 devices (enrolled and reporting through
 * scripts/loadgen), or with `--seed` 100,000 devices put straight into a fresh embedded database
 * (scripts/lib/seed-fleet.ts, telemetry through the real ingest), then web/scripts/bench-devices.ts
 * in headless Chromium: navigation to an interactive device list, frame times while scrolling, sort
 * by CPU, search as you type. Needs web/dist (cd web && bunx vite build).
 *
 *   bun scripts/bench-dashboard.ts --devices 10000
 *   bun scripts/bench-dashboard.ts --devices 100000 --seed
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { startEmbeddedPostgres } from "../db/embedded.ts";
import { BENCH_ADMIN, startBenchServer } from "./lib/bench-server.ts";
import { seedFleet } from "./lib/seed-fleet.ts";
import { settle } from "./lib/settle.ts";

const { values: opt } = parseArgs({
  options: { devices: { type: "string", default: "10000" }, seed: { type: "boolean", default: false } },
});
if (!existsSync("web/dist/index.html")) throw new Error("build the dashboard first: cd web && bunx vite build");
const dir = opt.seed ? mkdtempSync(join(tmpdir(), "sentpulse-bench-dash-")) : undefined;
const pg = dir ? await startEmbeddedPostgres(dir) : undefined;
const server = await startBenchServer(pg ? { SENTPULSE_DATABASE_URL: pg.url, SENTPULSE_OFFLINE_AFTER_S: "86400" } : {});
try {
  const env = { ...process.env, ...BENCH_ADMIN };
  if (pg) {
    const sql = postgres(pg.url, { max: 4, onnotice: () => {} });
    const [org] = await sql<{ id: string }[]>`select id from organizations order by created_at limit 1`;
    await seedFleet(sql, org!.id, { devices: Number(opt.devices) });
    console.log(JSON.stringify({ settled: await settle(sql) }));
    await sql.end();
  } else {
    const loadgen = Bun.spawn(
      ["bun", "scripts/loadgen.ts", "--server", server.base, "--agents", opt.devices, "--duration", "5", "--interval", "5", "--json"],
      { env, stdout: "ignore", stderr: "inherit" },
    );
    if ((await loadgen.exited) !== 0) throw new Error("loadgen failed");
  }
  const bench = Bun.spawn(["bun", "web/scripts/bench-devices.ts"], {
    env: { ...env, BASE: server.base, EMAIL: BENCH_ADMIN.SENTPULSE_ADMIN_EMAIL, PASSWORD: BENCH_ADMIN.SENTPULSE_ADMIN_PASSWORD },
    stdout: "inherit",
    stderr: "inherit",
  });
  if ((await bench.exited) !== 0) throw new Error("browser benchmark failed");
} finally {
  await server.stop();
  await pg?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
