/**
 * Agent footprint: the real compiled agent, enrolled against a local server, sending telemetry
 * every `--interval` s, next to a compiled Bun program that only sets a 5 s timer. Both are
 * sampled from /proc once a second after a warm-up; CPU is the share of one core over the window.
 *
 *   bun scripts/bench-agent.ts --duration 300 --interval 5
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startBenchServer } from "./lib/bench-server.ts";
import { sampler } from "./lib/proc.ts";

const { values: opt } = parseArgs({
  options: {
    duration: { type: "string", default: "300" },
    interval: { type: "string", default: "5" },
    warmup: { type: "string", default: "15" },
    /** Use an already built dist/agent/sentpulse-agent-linux-x64 as it is (to compare build flags). */
    "no-build": { type: "boolean", default: false },
  },
});
const run = (argv: string[]) => {
  const p = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${p.stderr.toString()}`);
  return p.stdout.toString();
};
if (!opt["no-build"]) run(["scripts/build-agents", "linux-x64"]);
run(["bun", "build", "scripts/bench/idle.ts", "--compile", "--outfile", "dist/bench/idle"]);

const dir = mkdtempSync(join(tmpdir(), "sentpulse-agentbench-"));
const server = await startBenchServer({ SENTPULSE_TELEMETRY_INTERVAL_S: opt.interval });
const children: Bun.Subprocess[] = [];
try {
  const { base, cookie } = server;
  const tokenRes = await fetch(`${base}/api/v1/enrollment-tokens`, {
    method: "POST",
    headers: { cookie, "content-type": "application/json" },
    body: "{}",
  });
  const { token } = (await tokenRes.json()) as { token: string };
  const config = join(dir, "agent", "agent.json");
  const enroll = Bun.spawn(["dist/agent/sentpulse-agent-linux-x64", "enroll", "--server", base, "--token", token, "--config", config], {
    stdout: "ignore",
    stderr: "inherit",
  });
  if ((await enroll.exited) !== 0) throw new Error("enroll failed");
  const agent = Bun.spawn(["dist/agent/sentpulse-agent-linux-x64", "run", "--config", config], { stdout: "ignore", stderr: "ignore" });
  const idle = Bun.spawn(["dist/bench/idle"], { stdout: "ignore", stderr: "ignore" });
  children.push(agent, idle);
  await Bun.sleep(Number(opt.warmup) * 1000);
  const a = sampler(() => [agent.pid]);
  const b = sampler(() => [idle.pid]);
  await Bun.sleep(Number(opt.duration) * 1000);
  const rows = (await (await fetch(`${base}/api/v1/devices`, { headers: { cookie } })).json()) as { items: { status: string }[] };
  console.log(
    JSON.stringify(
      { intervalS: Number(opt.interval), agent: a.stop(), bareBunTimer: b.stop(), agentStatusAtEnd: rows.items[0]?.status },
      null,
      2,
    ),
  );
} finally {
  for (const c of children) c.kill("SIGTERM");
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
