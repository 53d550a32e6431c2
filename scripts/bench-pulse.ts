/**
 * Pulse benchmark: starts a server (embedded PostgreSQL, fresh data dir) as its own process, runs
 * scripts/loadgen against it, and samples the server's and PostgreSQL's CPU and memory meanwhile;
 * the server's own ack latency histogram is read from /api/v1/metrics.
 *
 *   bun scripts/bench-pulse.ts --agents 1000 --duration 60 --interval 5
 */
import { parseArgs } from "node:util";
import { BENCH_ADMIN, startBenchServer } from "./lib/bench-server.ts";
import { descendants, sampler } from "./lib/proc.ts";

const { values: opt } = parseArgs({
  options: {
    agents: { type: "string", default: "1000" },
    duration: { type: "string", default: "60" },
    interval: { type: "string", default: "5" },
  },
});
const server = await startBenchServer();
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
      "--json",
    ],
    { env: { ...process.env, ...BENCH_ADMIN }, stdout: "pipe", stderr: "inherit" },
  );
  // measure once every simulated agent is connected and sending
  for (;;) {
    const r = (await (await fetch(`${server.base}/readyz`)).json()) as { agentsConnected: number };
    if (r.agentsConnected >= Number(opt.agents) || loadgen.exitCode !== null) break;
    await Bun.sleep(500);
  }
  await Bun.sleep(Number(opt.interval) * 1000);
  await fetch(`${server.base}/api/v1/metrics/reset`, { method: "POST", headers: { cookie: server.cookie } });
  const srv = sampler(() => [server.pid]);
  const db = sampler(() => descendants(server.pid), "pss");
  const out = await new Response(loadgen.stdout).text();
  const usage = { server: srv.stop(), postgresPss: db.stop() };
  const metrics = (await (await fetch(`${server.base}/api/v1/metrics`, { headers: { cookie: server.cookie } })).json()) as {
    telemetryAckLatency: unknown;
  };
  const result = { loadgen: JSON.parse(out.trim().split("\n").at(-1) ?? "{}"), serverAckLatency: metrics.telemetryAckLatency, ...usage };
  console.log(JSON.stringify(result, null, 2));
} finally {
  await server.stop();
}
