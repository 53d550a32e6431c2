/**
 * Simulated agents over real sockets against a running server: enrolls them (one token with enough
 * uses), then spreads them over several processes (scripts/loadgen-worker.ts; one process may open only
 * `ulimit -n` sockets) and over the given server addresses. Each opens the signed agent socket, sends
 * hello, then one telemetry batch every `--interval` seconds, timed until its ack (stored after commit).
 * Round trips are reported over the whole window, for the connect phase (until every agent has been
 * welcomed, plus one interval for their first batches and status flips) and for the steady state after.
 *
 *   scripts/loadgen --server http://127.0.0.1:8080 --agents 1000 --duration 60 --interval 5 \
 *     (--token spe_… | --email admin@… --password …) [--ramp 20] [--procs 2] [--reconnect] \
 *     [--raw rtts.json] [--json]
 *
 * `--server` may list several base URLs separated by commas (addresses of one server, or nodes).
 * Past half the kernel's ephemeral port range per address, the range is widened for the run where
 * allowed (scripts/lib/ephemeral-ports.ts: connect() slows down in the kernel once half is taken).
 * `LOADGEN_BUN_FLAGS` passes runtime flags to the worker processes (a CPU profile: `--cpu-prof-md --cpu-prof-dir=…`);
 * `LOADGEN_TRACE=1` has each worker print a line a second on stderr (CPU, heap, event-loop lag, welcomes, sends, acks).
 * `--reconnect`: lost sockets reconnect like the real agent (restart scenarios); `--raw` writes
 * every [sent epoch ms, round trip ms] and the highest acknowledged batch per device to a file.
 */
import { parseArgs } from "node:util";
import { facts } from "../server/testing/fixtures.ts";
import { ephemeralPorts } from "./lib/ephemeral-ports.ts";
import type { WorkerPlan, WorkerResult } from "./loadgen-worker.ts";

const { values: opt } = parseArgs({
  options: {
    server: { type: "string", default: "http://127.0.0.1:8080" },
    agents: { type: "string", default: "100" },
    duration: { type: "string", default: "60" },
    interval: { type: "string", default: "5" },
    ramp: { type: "string", default: "" },
    procs: { type: "string", default: "" },
    reconnect: { type: "boolean", default: false },
    raw: { type: "string" },
    token: { type: "string" },
    email: { type: "string", default: process.env.SENTPULSE_ADMIN_EMAIL },
    password: { type: "string", default: process.env.SENTPULSE_ADMIN_PASSWORD },
    json: { type: "boolean", default: false },
  },
});
const servers = String(opt.server)
  .split(",")
  .map((s) => s.trim().replace(/\/+$/, ""))
  .filter(Boolean);
const server = servers[0] ?? "";
const agents = Number(opt.agents);
const durationS = Number(opt.duration);
const intervalS = Number(opt.interval);
// by default the fleet connects at the rate a server spreads reconnects to (RECONNECTS_PER_S in
// server/agents/hub.ts: 500 a second, the window it names to agents after a restart), at least 5 s
const rampS = opt.ramp ? Number(opt.ramp) : Math.min(300, Math.max(5, agents / 500));
/** Sockets one worker opens at most: below the usual 20,000 open-file limit, with room for its own files. */
const PER_PROCESS = 9_000;
const procs = opt.procs ? Number(opt.procs) : Math.max(1, Math.ceil(agents / PER_PROCESS));
if (!(agents > 0 && durationS > 0 && intervalS > 0 && procs > 0))
  throw new Error("--agents, --duration, --interval and --procs must be positive");

async function token(): Promise<string> {
  if (opt.token) return opt.token;
  if (!opt.email || !opt.password) throw new Error("give --token, or --email and --password of an admin");
  const login = await fetch(`${server}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: opt.email, password: opt.password }),
  });
  if (!login.ok) throw new Error(`login failed: ${login.status}`);
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const res = await fetch(`${server}/api/v1/enrollment-tokens`, {
    method: "POST",
    headers: { cookie, "content-type": "application/json" },
    body: JSON.stringify({ maxUses: Math.min(100_000, agents), expiresInMinutes: 120, tags: ["loadgen"] }),
  });
  if (res.status !== 201) throw new Error(`token creation failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

async function enrollAll(t: string): Promise<WorkerPlan["sims"]> {
  const sims: WorkerPlan["sims"] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < agents; i = next++) {
      const hostname = `sim-${String(i).padStart(5, "0")}`;
      const res = await fetch(`${server}/api/agent/v1/enroll`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token: t, agentVersion: "loadgen", facts: facts(hostname), tags: ["loadgen"] }),
      });
      if (!res.ok) throw new Error(`enroll ${i} failed: ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { deviceId: string; secret: string };
      sims.push({ deviceId: body.deviceId, secret: body.secret, hostname });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return sims;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const round = (n: number) => Number(n.toFixed(2));
function summary(rtts: number[]) {
  const sorted = [...rtts].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: round(pct(sorted, 50)),
    p90: round(pct(sorted, 90)),
    p99: round(pct(sorted, 99)),
    max: round(sorted.at(-1) ?? Number.NaN),
  };
}

const t = await token();
const t0 = performance.now();
const sims = await enrollAll(t);
const enrollS = (performance.now() - t0) / 1000;

// every simulated agent of the machine connects to one of `servers`: each address has its own ports
const ports = ephemeralPorts(Math.ceil(agents / servers.length));
const startAt = Date.now() + 1000;
const stopAt = startAt + (rampS + intervalS + durationS) * 1000;
const workers = Array.from({ length: procs }, (_, p) => {
  const plan: WorkerPlan = {
    servers,
    sims: sims.filter((_, i) => i % procs === p),
    intervalS,
    startAt,
    rampS,
    stopAt,
    reconnect: opt.reconnect,
  };
  // LOADGEN_BUN_FLAGS: runtime flags for the workers, e.g. "--cpu-prof-md --cpu-prof-dir=/tmp/prof"
  const flags = (process.env.LOADGEN_BUN_FLAGS ?? "").split(" ").filter(Boolean);
  const proc = Bun.spawn(["bun", ...flags, new URL("./loadgen-worker.ts", import.meta.url).pathname], {
    stdin: new Blob([JSON.stringify(plan)]),
    stdout: "pipe",
    stderr: "inherit",
  });
  return new Response(proc.stdout).text().then((out) => JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as WorkerResult);
});
const results = await Promise.all(workers).finally(() => ports.restore());

const all = results.flatMap((r) => r.rtts);
const welcomes = results.flatMap((r) => r.welcomes).sort((a, b) => a - b);
// the connect phase ends one interval after the last first welcome (every agent's first batch and status flip)
const firstWelcomes = welcomes.slice(0, agents);
const connectEnd = (firstWelcomes.at(-1) ?? startAt) + intervalS * 1000;
const sum = (k: keyof Omit<WorkerResult, "rtts" | "ackedMarks" | "welcomes" | "closes" | "lastRefusedAt" | "refusedBy">) =>
  results.reduce((n, r) => n + r[k], 0);
// p50/p99 per 10 s of the run, to see where time goes
const buckets = new Map<number, number[]>();
for (const [at, rtt] of all) {
  const b = Math.floor((at - startAt) / 10_000) * 10;
  const list = buckets.get(b) ?? [];
  list.push(rtt);
  buckets.set(b, list);
}
const elapsed = (stopAt - startAt) / 1000;
const result = {
  agents,
  processes: procs,
  servers: servers.length,
  intervalS,
  durationS: Math.round(elapsed),
  enrollSeconds: round(enrollS),
  connected: sum("connected"),
  refused: sum("refused"),
  refusedBy: results.reduce<Record<string, number>>((all, r) => {
    for (const [k, n] of Object.entries(r.refusedBy)) all[k] = (all[k] ?? 0) + n;
    return all;
  }, {}),
  lastRefusedAt: Math.max(0, ...results.map((r) => r.lastRefusedAt)),
  disconnectedDuringRun: sum("closed"),
  closes: results.reduce<Record<string, number>>((all, r) => {
    for (const [k, n] of Object.entries(r.closes)) all[k] = (all[k] ?? 0) + n;
    return all;
  }, {}),
  allWelcomedAfterS: firstWelcomes.length >= agents ? round(((firstWelcomes.at(-1) ?? 0) - startAt) / 1000) : null,
  batchesSent: sum("sent"),
  acked: sum("acked"),
  storedRowsPerSecond: Math.round(sum("stored") / elapsed),
  rttMs: summary(all.map(([, r]) => r)),
  connectPhaseRttMs: summary(all.filter(([at]) => at < connectEnd).map(([, r]) => r)),
  steadyRttMs: summary(all.filter(([at]) => at >= connectEnd).map(([, r]) => r)),
  per10s: [...buckets].sort((a, b) => a[0] - b[0]).map(([s, r]) => ({ fromS: s, ...summary(r) })),
  errors: sum("errors"),
  commandsAnswered: sum("commands"),
  ephemeralPorts: { before: ports.before, during: ports.during },
};
if (opt.raw) {
  await Bun.write(
    opt.raw,
    JSON.stringify({ startAt, rtts: all, ackedMarks: Object.assign({}, ...results.map((r) => r.ackedMarks)) as Record<string, number> }),
  );
}
console.log(opt.json ? JSON.stringify(result) : result);
process.exit(0);
