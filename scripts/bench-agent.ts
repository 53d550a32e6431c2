/**
 * Agent footprint: the real compiled agent, enrolled against a local server and sending telemetry
 * every `--interval` s, sampled from /proc once a second (RSS and PSS) after a warm-up, in one window
 * with a compiled Bun program that only sets a 5 s timer and, with `--peers`, Debian's Prometheus
 * node_exporter (scraped every 5 s) and collectd (5 s interval, CSV output). CPU is the share of one
 * core over the window. Ends with the footprint budget (issue 17) as pass/fail.
 *
 *   bun scripts/bench-agent.ts --duration 300 --interval 5 --peers
 *   bun scripts/bench-agent.ts --bun /tmp/bun-1.4.4/node_modules/.bin/bun   # a candidate runtime
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freePort } from "../db/embedded.ts";
import { installerDownloads } from "./lib/agent-downloads.ts";
import { startBenchServer } from "./lib/bench-server.ts";
import { sampler } from "./lib/proc.ts";

const { values: opt } = parseArgs({
  options: {
    duration: { type: "string", default: "300" },
    interval: { type: "string", default: "5" },
    warmup: { type: "string", default: "45" },
    /** Use an already built dist/agent/sentpulse-agent-linux-x64 as it is (to compare build flags). */
    "no-build": { type: "boolean", default: false },
    /** The Bun that compiles the agent and the timer program (default: the pinned one on PATH). */
    bun: { type: "string", default: "bun" },
    /** Also run node_exporter (scraped every 5 s) and collectd (5 s) in the same window. */
    peers: { type: "boolean", default: false },
  },
});
const MB = 2 ** 20;
const BUDGET = { rssMb: 30, rssTargetMb: 20, cpuPercent: 0.1, wireMb: 40, codeOverBareMb: 5 };

const run = (argv: string[]) => {
  const p = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${p.stderr.toString()}`);
  return p.stdout.toString().trim();
};
const bunVersion = run([opt.bun, "--version"]);
const dir = mkdtempSync(join(tmpdir(), "sentpulse-agentbench-"));
// fresh copies (a binary the benchmark's server or another run also maps shares its pages), written back to disk
const agentBin = join(dir, "sentpulse-agent");
const idleBin = join(dir, "idle");
if (opt["no-build"]) run(["cp", "dist/agent/sentpulse-agent-linux-x64", agentBin]);
else run([opt.bun, "build", "agent/main.ts", "--compile", "--minify", "--target=bun-linux-x64", "--outfile", agentBin]);
run([opt.bun, "build", "scripts/bench/idle.ts", "--compile", "--outfile", idleBin]);
run(["sync"]);

const server = await startBenchServer({ SENTPULSE_TELEMETRY_INTERVAL_S: opt.interval });
const children: Bun.Subprocess[] = [];
const timers: ReturnType<typeof setInterval>[] = [];
try {
  const { base, cookie } = server;
  const tokenRes = await fetch(`${base}/api/v1/enrollment-tokens`, {
    method: "POST",
    headers: { cookie, "content-type": "application/json" },
    body: "{}",
  });
  const { token } = (await tokenRes.json()) as { token: string };
  const config = join(dir, "agent", "agent.json");
  run([agentBin, "enroll", "--server", base, "--token", token, "--config", config]);
  const spawn = (argv: string[], logFile?: string) => {
    const p = Bun.spawn(argv, { stdout: "ignore", stderr: logFile ? Bun.file(logFile) : "ignore" });
    children.push(p);
    return p;
  };
  const procs: Record<string, Bun.Subprocess> = {
    [`SENTpulse agent, telemetry every ${opt.interval} s`]: spawn([agentBin, "run", "--config", config], join(dir, "agent.log")),
    "compiled Bun that only sets a 5 s timer": spawn([idleBin]),
  };
  if (opt.peers) {
    const port = freePort();
    procs["Prometheus node_exporter (scraped every 5 s)"] = spawn(["prometheus-node-exporter", `--web.listen-address=127.0.0.1:${port}`]);
    timers.push(
      setInterval(
        () =>
          void fetch(`http://127.0.0.1:${port}/metrics`).then(
            (r) => r.arrayBuffer(),
            () => {},
          ),
        5000,
      ),
    );
    const conf = join(dir, "collectd.conf");
    mkdirSync(join(dir, "collectd"));
    writeFileSync(
      conf,
      [
        "Interval 5",
        `BaseDir "${dir}/collectd"`,
        `PIDFile "${dir}/collectd.pid"`,
        'PluginDir "/usr/lib/collectd"',
        'TypesDB "/usr/share/collectd/types.db"',
        ...["cpu", "memory", "load", "interface", "df", "disk", "swap", "uptime", "csv"].map((p) => `LoadPlugin ${p}`),
        `<Plugin csv>\n  DataDir "${dir}/collectd/csv"\n</Plugin>`,
        "", // collectd refuses a file whose last line has no newline
      ].join("\n"),
    );
    procs["collectd (5 s interval, CSV)"] = spawn(["collectd", "-f", "-C", conf]);
  }
  await Bun.sleep(Number(opt.warmup) * 1000);
  for (const [name, p] of Object.entries(procs))
    if (p.exitCode !== null) throw new Error(`${name} exited (${p.exitCode}) during the warm-up`);
  const samplers = Object.entries(procs).map(([name, p]) => ({
    name,
    rss: sampler(() => [p.pid]),
    pss: sampler(() => [p.pid], "pss"),
  }));
  const load0 = run(["cat", "/proc/loadavg"]);
  await Bun.sleep(Number(opt.duration) * 1000);
  const load1 = run(["cat", "/proc/loadavg"]);
  const rows = samplers.map((s) => {
    const r = s.rss.stop();
    const p = s.pss.stop();
    return { name: s.name, rssMb: r.rssMb, pssMb: p.rssMb, cpuPercent: r.cpuPercentOfOneCore };
  });
  const status = (await (await fetch(`${base}/api/v1/devices`, { headers: { cookie } })).json()) as { items: { status: string }[] };

  console.log(`Bun ${bunVersion}; ${opt.duration} s window after ${opt.warmup} s; loadavg at start ${load0}; at end ${load1}`);
  console.log("\n| process | RSS median (max) | PSS median | CPU (one core) |\n|---|---|---|---|");
  for (const r of rows)
    console.log(`| ${r.name} | ${r.rssMb.median} MB (${r.rssMb.max}) | ${r.pssMb.median} MB | ${r.cpuPercent.toFixed(2)} % |`);

  const [agent] = rows;
  const exporter = rows.find((r) => r.name.includes("node_exporter"));
  const binMb = statSync(agentBin).size / MB;
  const bareMb = statSync(idleBin).size / MB;
  const verdict = (ok: boolean) => (ok ? "pass" : "FAIL");
  const checks: [string, string, boolean][] = [
    [`idle RSS ≤ ${BUDGET.rssMb} MB (acceptance)`, `${agent?.rssMb.median} MB`, (agent?.rssMb.median ?? Infinity) <= BUDGET.rssMb],
    [
      `idle RSS ≤ ${BUDGET.rssTargetMb} MB (DESIGN.md target)`,
      `${agent?.rssMb.median} MB`,
      (agent?.rssMb.median ?? Infinity) <= BUDGET.rssTargetMb,
    ],
    [`idle PSS ≤ ${BUDGET.rssMb} MB`, `${agent?.pssMb.median} MB`, (agent?.pssMb.median ?? Infinity) <= BUDGET.rssMb],
    [
      `CPU ≤ ${BUDGET.cpuPercent} % at ${opt.interval} s`,
      `${agent?.cpuPercent.toFixed(2)} %`,
      (agent?.cpuPercent ?? Infinity) <= BUDGET.cpuPercent,
    ],
    [
      `binary ≤ bare runtime + ${BUDGET.codeOverBareMb} MB`,
      `${binMb.toFixed(1)} MB (bare ${bareMb.toFixed(1)} MB)`,
      binMb <= bareMb + BUDGET.codeOverBareMb,
    ],
  ];
  if (exporter)
    checks.push([
      "CPU below node_exporter's in the same window",
      `${agent?.cpuPercent.toFixed(2)} % vs ${exporter.cpuPercent.toFixed(2)} %`,
      (agent?.cpuPercent ?? Infinity) < exporter.cpuPercent,
    ]);
  for (const d of installerDownloads())
    checks.push([
      `${d.target} on the wire ≤ ${BUDGET.wireMb} MB`,
      // bytes on the wire as the issue counts them: MB = 10^6 bytes
      d.bytes ? `${(d.bytes / 1e6).toFixed(2)} MB ${d.how}` : "not built",
      (d.bytes ?? Infinity) <= BUDGET.wireMb * 1e6,
    ]);
  console.log("\n| budget | measured | |\n|---|---|---|");
  for (const [what, measured, ok] of checks) console.log(`| ${what} | ${measured} | ${verdict(ok)} |`);
  const releases = (await Bun.file(join(dir, "agent.log")).text()).split("\n").filter((l) => l.includes("released once-used pages"));
  console.log(
    `\nagent status at the end: ${status.items[0]?.status}; page releases: ${releases.length}${releases[0] ? ` (first: ${releases[0]})` : ""}`,
  );
} finally {
  for (const t of timers) clearInterval(t);
  for (const c of children) c.kill("SIGTERM");
  await Promise.all(children.map((c) => c.exited));
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
