/**
 * Simulated agents over real sockets against a running server: each enrolls (one token with
 * enough uses), opens the signed agent socket, sends hello, then one telemetry batch every
 * `--interval` seconds, and times each batch until its ack (stored after commit).
 *
 *   scripts/loadgen --server http://127.0.0.1:8080 --agents 1000 --duration 60 --interval 5 \
 *     (--token spe_… | --email admin@… --password …) [--ramp 20] [--json]
 */
import { parseArgs } from "node:util";
import { signBody, signingKey, socketChallenge } from "../server/protocol/signing.ts";
import { facts, sample } from "../server/testing/fixtures.ts";

const { values: opt } = parseArgs({
  options: {
    server: { type: "string", default: "http://127.0.0.1:8080" },
    agents: { type: "string", default: "100" },
    duration: { type: "string", default: "60" },
    interval: { type: "string", default: "5" },
    ramp: { type: "string", default: "" },
    token: { type: "string" },
    email: { type: "string", default: process.env.SENTPULSE_ADMIN_EMAIL },
    password: { type: "string", default: process.env.SENTPULSE_ADMIN_PASSWORD },
    json: { type: "boolean", default: false },
  },
});
const server = String(opt.server).replace(/\/+$/, "");
const agents = Number(opt.agents);
const durationS = Number(opt.duration);
const intervalS = Number(opt.interval);
const rampS = opt.ramp ? Number(opt.ramp) : Math.min(30, Math.max(5, agents / 500));
if (!(agents > 0 && durationS > 0 && intervalS > 0)) throw new Error("--agents, --duration and --interval must be positive");

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

interface Sim {
  deviceId: string;
  key: Buffer;
  ws?: WebSocket;
  seq: number;
  sent: Map<number, number>;
}

const rtts: number[] = [];
const counters = { enrolled: 0, connected: 0, closed: 0, sent: 0, acked: 0, stored: 0, errors: 0, commands: 0 };
let measuring = false;

async function enrollAll(t: string): Promise<Sim[]> {
  const sims: Sim[] = [];
  const queue = Array.from({ length: agents }, (_, i) => i);
  const worker = async () => {
    for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
      const res = await fetch(`${server}/api/agent/v1/enroll`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token: t, agentVersion: "loadgen", facts: facts(`sim-${String(i).padStart(5, "0")}`), tags: ["loadgen"] }),
      });
      if (!res.ok) throw new Error(`enroll ${i} failed: ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { deviceId: string; secret: string };
      sims.push({ deviceId: body.deviceId, key: signingKey(body.secret), seq: 0, sent: new Map() });
      counters.enrolled++;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return sims;
}

function connect(sim: Sim): Promise<void> {
  const ts = Date.now();
  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64url");
  const sig = signBody(sim.key, ts, socketChallenge(sim.deviceId, nonce));
  const ws = new WebSocket(`${server.replace(/^http/, "ws")}/api/agent/v1/ws?device=${sim.deviceId}&ts=${ts}&nonce=${nonce}&sig=${sig}`);
  sim.ws = ws;
  return new Promise((resolve) => {
    ws.addEventListener("open", () => {
      counters.connected++;
      ws.send(
        JSON.stringify({
          v: 1,
          id: crypto.randomUUID(),
          type: "hello",
          data: { agentVersion: "loadgen", facts: facts(`sim-${sim.deviceId.slice(-6)}`) },
        }),
      );
      resolve();
    });
    ws.addEventListener("message", (e) => {
      const f = JSON.parse(String(e.data)) as { type: string; data: { seq: number; stored: boolean } };
      if (f.type === "ack") {
        const at = sim.sent.get(f.data.seq);
        sim.sent.delete(f.data.seq);
        if (at !== undefined && measuring) {
          rtts.push(performance.now() - at);
          counters.acked++;
          if (f.data.stored) counters.stored++;
        }
      } else if (f.type === "command") {
        // a simulated agent runs nothing: it reports the command done at once
        const { commandId } = f.data as unknown as { commandId: string };
        counters.commands++;
        sim.ws?.send(
          JSON.stringify({
            v: 1,
            id: crypto.randomUUID(),
            type: "command_update",
            data: { commandId, status: "succeeded", exitCode: 0, stdout: "ok\n" },
          }),
        );
      } else if (f.type === "error") counters.errors++;
    });
    ws.addEventListener("close", () => {
      counters.closed++;
      resolve();
    });
  });
}

function send(sim: Sim): void {
  if (sim.ws?.readyState !== WebSocket.OPEN) return;
  sim.seq++;
  sim.sent.set(sim.seq, performance.now());
  if (measuring) counters.sent++;
  sim.ws.send(
    JSON.stringify({
      v: 1,
      id: String(sim.seq),
      type: "telemetry",
      data: { seq: sim.seq, samples: [sample(new Date(), Math.random() * 100)] },
    }),
  );
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

const t = await token();
const t0 = performance.now();
const sims = await enrollAll(t);
const enrollS = (performance.now() - t0) / 1000;
// connect over the ramp, then each sim sends on its own phase of the interval
const perBatch = Math.max(1, Math.ceil(agents / (rampS * 10)));
for (let i = 0; i < sims.length; i += perBatch) {
  await Promise.all(sims.slice(i, i + perBatch).map(connect));
  await Bun.sleep(100);
}
const timers = sims.map((sim, i) => {
  const phase = (i / sims.length) * intervalS * 1000;
  return setTimeout(() => {
    send(sim);
    (sim as Sim & { timer?: Timer }).timer = setInterval(() => send(sim), intervalS * 1000);
  }, phase);
});
await Bun.sleep(intervalS * 1000); // warm-up: every sim has sent once
measuring = true;
const m0 = performance.now();
await Bun.sleep(durationS * 1000);
measuring = false;
const elapsed = (performance.now() - m0) / 1000;
for (const t of timers) clearTimeout(t);
for (const s of sims) clearInterval((s as Sim & { timer?: Timer }).timer);
await Bun.sleep(500);
for (const s of sims) s.ws?.close();

rtts.sort((a, b) => a - b);
const result = {
  agents,
  intervalS,
  durationS: Math.round(elapsed),
  enrollSeconds: Number(enrollS.toFixed(1)),
  connected: counters.connected,
  disconnectedDuringRun: counters.closed,
  batchesSent: counters.sent,
  acked: counters.acked,
  storedRowsPerSecond: Math.round(counters.stored / elapsed),
  rttMs: {
    p50: Number(pct(rtts, 50).toFixed(2)),
    p90: Number(pct(rtts, 90).toFixed(2)),
    p99: Number(pct(rtts, 99).toFixed(2)),
    max: Number((rtts.at(-1) ?? Number.NaN).toFixed(2)),
  },
  errors: counters.errors,
  commandsAnswered: counters.commands,
};
console.log(opt.json ? JSON.stringify(result) : result);
process.exit(0);
