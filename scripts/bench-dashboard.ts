/**
 * Dashboard benchmark: a server with 10,000 devices (enrolled and reporting through
 * scripts/loadgen), then web/scripts/bench-devices.ts in headless Chromium: navigation to an
 * interactive device list, frame times while scrolling. Needs web/dist (cd web && bunx vite build).
 *
 *   bun scripts/bench-dashboard.ts --devices 10000
 */
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { BENCH_ADMIN, startBenchServer } from "./lib/bench-server.ts";

const { values: opt } = parseArgs({ options: { devices: { type: "string", default: "10000" } } });
if (!existsSync("web/dist/index.html")) throw new Error("build the dashboard first: cd web && bunx vite build");
const server = await startBenchServer();
try {
  const env = { ...process.env, ...BENCH_ADMIN };
  const loadgen = Bun.spawn(
    ["bun", "scripts/loadgen.ts", "--server", server.base, "--agents", opt.devices, "--duration", "5", "--interval", "5", "--json"],
    {
      env,
      stdout: "ignore",
      stderr: "inherit",
    },
  );
  if ((await loadgen.exited) !== 0) throw new Error("loadgen failed");
  const bench = Bun.spawn(["bun", "web/scripts/bench-devices.ts"], {
    env: { ...env, BASE: server.base, EMAIL: BENCH_ADMIN.SENTPULSE_ADMIN_EMAIL, PASSWORD: BENCH_ADMIN.SENTPULSE_ADMIN_PASSWORD },
    stdout: "inherit",
    stderr: "inherit",
  });
  if ((await bench.exited) !== 0) throw new Error("browser benchmark failed");
} finally {
  await server.stop();
}
