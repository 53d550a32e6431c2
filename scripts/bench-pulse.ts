/**
 * Pulse benchmark: starts a server (embedded PostgreSQL, fresh data dir) as its own process, runs
 * scripts/loadgen against it, and samples the server's and PostgreSQL's CPU and RSS meanwhile.
 *
 *   bun scripts/bench-pulse.ts --agents 1000 --duration 60 --interval 5
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freePort } from "../db/embedded.ts";
import { descendants, sampler } from "./lib/proc.ts";

const { values: opt } = parseArgs({
  options: {
    agents: { type: "string", default: "1000" },
    duration: { type: "string", default: "60" },
    interval: { type: "string", default: "5" },
  },
});
const port = freePort();
const dataDir = mkdtempSync(join(tmpdir(), "sentpulse-bench-"));
const admin = { SENTPULSE_ADMIN_EMAIL: "bench@example.com", SENTPULSE_ADMIN_PASSWORD: "bench-password" };
const server = Bun.spawn(["bun", "server/main.ts"], {
  env: {
    ...process.env,
    ...admin,
    SENTPULSE_PORT: String(port),
    SENTPULSE_HOST: "127.0.0.1",
    SENTPULSE_DATA_DIR: dataDir,
    SENTPULSE_LOG_LEVEL: "warn",
  },
  stdout: "ignore",
  stderr: "inherit",
});
try {
  for (let i = 0; ; i++) {
    if (i > 120) throw new Error("server did not become ready");
    if ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok) break;
    await Bun.sleep(500);
  }
  const pg = () => descendants(server.pid);
  const loadgen = Bun.spawn(
    [
      "bun",
      "scripts/loadgen.ts",
      "--server",
      `http://127.0.0.1:${port}`,
      "--agents",
      opt.agents,
      "--duration",
      opt.duration,
      "--interval",
      opt.interval,
      "--json",
    ],
    { env: { ...process.env, ...admin }, stdout: "pipe", stderr: "inherit" },
  );
  // measure once every simulated agent is connected and sending: wait for the warm-up to pass
  const agents = Number(opt.agents);
  for (;;) {
    const r = await fetch(`http://127.0.0.1:${port}/readyz`).then((x) => x.json() as Promise<{ agentsConnected: number }>);
    if (r.agentsConnected >= agents) break;
    if (loadgen.exitCode !== null) break;
    await Bun.sleep(500);
  }
  await Bun.sleep(Number(opt.interval) * 1000);
  const login = await fetch(`http://127.0.0.1:${port}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: admin.SENTPULSE_ADMIN_EMAIL, password: admin.SENTPULSE_ADMIN_PASSWORD }),
  });
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  await fetch(`http://127.0.0.1:${port}/api/v1/metrics/reset`, { method: "POST", headers: { cookie } });
  const srv = sampler(() => [server.pid]);
  const db = sampler(pg);
  const out = await new Response(loadgen.stdout).text();
  const usage = { server: srv.stop(), postgres: db.stop() };
  const metrics = (await (await fetch(`http://127.0.0.1:${port}/api/v1/metrics`, { headers: { cookie } })).json()) as {
    telemetryAckLatency: unknown;
  };
  const result = { loadgen: JSON.parse(out.trim().split("\n").at(-1) ?? "{}"), serverAckLatency: metrics.telemetryAckLatency, ...usage };
  console.log(JSON.stringify(result, null, 2));
} finally {
  server.kill("SIGTERM");
  await server.exited;
  rmSync(dataDir, { recursive: true, force: true });
}
