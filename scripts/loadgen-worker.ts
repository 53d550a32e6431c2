/**
 * One process of simulated agents for scripts/loadgen.ts (which spawns several: each process may open
 * only so many sockets). Reads its plan as JSON on stdin, prints one JSON result line on stdout.
 *
 * A simulated agent behaves like the real one where load is concerned: signed handshake, hello after
 * the welcome, one telemetry batch per interval kept until acknowledged (at most 16 in flight, resent
 * after a reconnect from the welcome's `ackedSeq`), and reconnects spread over the window the server
 * names (`reconnectWindowS` in the close reason or settings), then exponential backoff with full jitter.
 */
import { backoffMs, reconnectDelayMs, refusalHoldMs } from "../agent/transport/backoff.ts";
import { signBody, signingKey, socketChallenge } from "../server/protocol/signing.ts";
import { facts, sample } from "../server/testing/fixtures.ts";

export interface WorkerPlan {
  /** Base URLs; simulated agents are spread over them round-robin (several addresses of one server, or several nodes). */
  servers: string[];
  sims: { deviceId: string; secret: string; hostname: string }[];
  intervalS: number;
  /** Epoch ms: connecting starts then, spread over `rampS`. */
  startAt: number;
  rampS: number;
  /** Epoch ms: stop sending and report. */
  stopAt: number;
  /** Reconnect after a lost socket (restart scenarios); off: a closed simulated agent stays closed. */
  reconnect: boolean;
}

export interface WorkerResult {
  connected: number;
  /** Socket attempts refused before the upgrade (503 at the file limit, or the server down). */
  refused: number;
  /** Epoch ms of the last refused attempt (0: none). */
  lastRefusedAt: number;
  /** Refused attempts by the HTTP status that answered the upgrade (`503`), or `none` (no answer: the server down or unreachable). */
  refusedBy: Record<string, number>;
  closed: number;
  sent: number;
  acked: number;
  stored: number;
  errors: number;
  commands: number;
  /** [epoch ms when sent, round trip ms] of every acknowledged batch. */
  rtts: [number, number][];
  /** Highest acknowledged batch per device (every lower one was acknowledged too). */
  ackedMarks: Record<string, number>;
  /** Epoch ms of each socket's welcome, in order. */
  welcomes: number[];
  /** Sockets that were open, by close code and reason (e.g. `1012 {"reconnectWindowS":20}`). */
  closes: Record<string, number>;
}

const SEND_WINDOW = 16;
/** Unacknowledged batches kept per simulated agent, at most (the real agent spools to disk). */
const MAX_QUEUED = 500;

interface Sim {
  deviceId: string;
  key: Buffer;
  hostname: string;
  server: string;
  ws?: WebSocket | undefined;
  welcomed: boolean;
  seq: number;
  /** Batches not yet acknowledged, oldest first: seq and when it was (last) sent. */
  queue: { seq: number; time: string; sentAt: number; wall: number }[];
  lastSent: number;
  ackedMark: number;
  attempt: number;
  windowS: number;
}

const plan = (await Bun.stdin.json()) as WorkerPlan;
const result: WorkerResult = {
  connected: 0,
  refused: 0,
  lastRefusedAt: 0,
  refusedBy: {},
  closed: 0,
  sent: 0,
  acked: 0,
  stored: 0,
  errors: 0,
  commands: 0,
  rtts: [],
  ackedMarks: {},
  welcomes: [],
  closes: {},
};
let stopping = false;

const sims: Sim[] = plan.sims.map((s, i) => ({
  deviceId: s.deviceId,
  key: signingKey(s.secret),
  hostname: s.hostname,
  server: plan.servers[i % plan.servers.length] ?? "",
  welcomed: false,
  seq: 0,
  queue: [],
  lastSent: 0,
  ackedMark: 0,
  attempt: 0,
  windowS: 0,
}));

function frame(type: string, data: unknown, id: string = crypto.randomUUID()): string {
  return JSON.stringify({ v: 1, id, type, data });
}

function connect(sim: Sim): void {
  if (stopping) return;
  const ts = Date.now();
  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64url");
  const sig = signBody(sim.key, ts, socketChallenge(sim.deviceId, nonce));
  const ws = new WebSocket(
    `${sim.server.replace(/^http/, "ws")}/api/agent/v1/ws?device=${sim.deviceId}&ts=${ts}&nonce=${nonce}&sig=${sig}&v=1`,
  );
  sim.ws = ws;
  let opened = false;
  ws.addEventListener("open", () => {
    opened = true;
    result.connected++;
  });
  ws.addEventListener("message", (e) => onMessage(sim, String(e.data)));
  let status = "none";
  ws.addEventListener("error", (e) => {
    // Bun names the answer of a refused upgrade: "Expected 101 status code: 503"
    status = /status code: (\d{3})/.exec((e as ErrorEvent).message ?? "")?.[1] ?? status;
  });
  ws.addEventListener("close", (e) => {
    if (sim.ws !== ws) return;
    sim.ws = undefined;
    sim.welcomed = false;
    if (opened) {
      result.closed++;
      const key = `${e.code} ${e.reason}`.trim();
      result.closes[key] = (result.closes[key] ?? 0) + 1;
    } else {
      result.refused++;
      result.lastRefusedAt = Date.now();
      result.refusedBy[status] = (result.refusedBy[status] ?? 0) + 1;
    }
    if (stopping || !plan.reconnect) return;
    let windowS = sim.windowS;
    if (e.code === 1012) {
      try {
        windowS = Number(JSON.parse(e.reason).reconnectWindowS) || windowS;
      } catch {}
    }
    const wait = opened
      ? reconnectDelayMs(windowS)
      : Math.max(backoffMs(sim.attempt++, undefined, undefined, undefined, windowS), refusalHoldMs(`status code: ${status}`));
    setTimeout(() => connect(sim), wait);
  });
}

function onMessage(sim: Sim, text: string): void {
  const f = JSON.parse(text) as { type: string; data: Record<string, unknown> };
  if (f.type === "welcome") {
    sim.welcomed = true;
    sim.attempt = 0;
    result.welcomes.push(Date.now());
    const settings = f.data.settings as { reconnectWindowS?: number };
    sim.windowS = settings.reconnectWindowS ?? sim.windowS;
    const acked = Number(f.data.ackedSeq);
    // batches at or below the server's mark were stored (their ack was lost with the socket)
    while (sim.queue.length > 0 && (sim.queue[0]?.seq ?? 0) <= acked) sim.queue.shift();
    sim.ackedMark = Math.max(sim.ackedMark, acked);
    sim.lastSent = acked;
    sim.ws?.send(frame("hello", { agentVersion: "loadgen", facts: facts(sim.hostname) }));
    pump(sim);
  } else if (f.type === "ack") {
    const seq = Number(f.data.seq);
    const i = sim.queue.findIndex((q) => q.seq === seq);
    if (i >= 0) {
      const q = sim.queue[i];
      sim.queue.splice(i, 1);
      if (q) result.rtts.push([q.wall, performance.now() - q.sentAt]);
      result.acked++;
      if (f.data.stored) result.stored++;
    }
    sim.ackedMark = Math.max(sim.ackedMark, seq);
    pump(sim);
  } else if (f.type === "command") {
    // a simulated agent runs nothing: it reports the command done at once
    result.commands++;
    sim.ws?.send(frame("command_update", { commandId: f.data.commandId, status: "succeeded", exitCode: 0, stdout: "ok\n" }));
  } else if (f.type === "error") result.errors++;
}

/** Sends queued batches in order, keeping at most SEND_WINDOW unacknowledged. */
function pump(sim: Sim): void {
  if (!sim.welcomed || sim.ws?.readyState !== WebSocket.OPEN) return;
  const inFlight = sim.queue.filter((q) => q.seq <= sim.lastSent).length;
  let room = SEND_WINDOW - inFlight;
  for (const q of sim.queue) {
    if (room <= 0) break;
    if (q.seq <= sim.lastSent) continue;
    q.sentAt = performance.now();
    q.wall = Date.now();
    sim.ws.send(frame("telemetry", { seq: q.seq, samples: [{ ...sample(new Date(q.time), Math.random() * 100) }] }, String(q.seq)));
    sim.lastSent = q.seq;
    result.sent++;
    room--;
  }
}

function tick(sim: Sim): void {
  if (stopping) return;
  sim.seq++;
  if (sim.queue.length >= MAX_QUEUED) sim.queue.shift();
  sim.queue.push({ seq: sim.seq, time: new Date().toISOString(), sentAt: 0, wall: 0 });
  pump(sim);
}

// connect over the ramp; each simulated agent then samples on its own phase of the interval
await Bun.sleep(Math.max(0, plan.startAt - Date.now()));
if (process.env.LOADGEN_TRACE) {
  let lastCpu = process.cpuUsage();
  let lastAt = performance.now();
  let c = { ...result, rtts: result.rtts.length, welcomes: result.welcomes.length };
  let maxLag = 0;
  let expect = performance.now() + 50;
  setInterval(() => {
    const now = performance.now();
    maxLag = Math.max(maxLag, now - expect);
    expect = now + 50;
  }, 50);
  setInterval(() => {
    const u = process.cpuUsage(lastCpu);
    lastCpu = process.cpuUsage();
    const now = performance.now();
    const m = process.memoryUsage();
    const w = result.welcomes.length;
    console.error(
      `trace ${process.pid} t=${((Date.now() - plan.startAt) / 1000).toFixed(0)} cpu=${(((u.user + u.system) / 1000 / (now - lastAt)) * 100).toFixed(0)}% ` +
        `heap=${(m.heapUsed / 1e6).toFixed(0)}MB rss=${(m.rss / 1e6).toFixed(0)}MB lag=${maxLag.toFixed(0)}ms welcomes=${w - c.welcomes} ` +
        `sent=${result.sent - c.sent} acked=${result.acked - c.acked} connected=${result.connected}`,
    );
    c = { ...result, rtts: result.rtts.length, welcomes: w };
    lastAt = now;
    maxLag = 0;
  }, 1000);
}
const timers: Timer[] = [];
const tickTimers: Timer[] = [];
sims.forEach((sim, i) => {
  const at = (i / sims.length) * plan.rampS * 1000;
  timers.push(
    setTimeout(() => {
      connect(sim);
      // each on its own clock, as separate machines are: the k-th tick is due at first + k intervals. A
      // setInterval would be rescheduled from when it ran, so every timer held up by one stall of this
      // process (a collection, a burst of welcomes) would fire together from then on, and the fleet's
      // phases would gather into bursts no real fleet sends.
      const first = Date.now() + Math.random() * plan.intervalS * 1000;
      let k = 0;
      const next = () => {
        tickTimers[i] = setTimeout(
          () => {
            tick(sim);
            k++;
            next();
          },
          Math.max(0, first + k * plan.intervalS * 1000 - Date.now()),
        );
      };
      next();
    }, at),
  );
});
await Bun.sleep(Math.max(0, plan.stopAt - Date.now()));
stopping = true;
for (const t of [...timers, ...tickTimers]) clearTimeout(t);
await Bun.sleep(1000); // the last acks
for (const sim of sims) {
  if (sim.ackedMark > 0) result.ackedMarks[sim.deviceId] = sim.ackedMark;
  sim.ws?.close();
}
await Bun.write(Bun.stdout, `${JSON.stringify(result)}\n`);
process.exit(0);
