/**
 * Cluster benchmark: one embedded PostgreSQL, Debian's nats-server (JetStream), server processes
 * started here (one without NATS, or three joined over NATS), simulated agents from scripts/loadgen.
 *
 *   bun scripts/bench-cluster.ts latency [--agents 20] [--commands 300] [--seconds 30]
 *   bun scripts/bench-cluster.ts cpu [--agents 300] [--seconds 40]
 *   bun scripts/bench-cluster.ts fleet [--agents 10000] [--seconds 60] [--interval 5]
 *
 * `latency`: the agents connect to node A. Command round trip = POST on node X → the command's final
 * `command.updated` frame on a dashboard socket on node X (the simulated agent answers at once);
 * live fan-out = a telemetry sample's time (taken when the agent sends it) → its `device.telemetry`
 * frame on a dashboard on node X. Single node: X = A, no NATS. Cluster: X = another node (the command
 * goes A-ward over NATS, the output and samples come back over it).
 * `cpu`: the same telemetry (every agent every second, spread over three nodes) on three processes
 * without NATS, with NATS, and with NATS while every device is watched from a dashboard on another
 * node; CPU of the servers (and nats-server) per 1,000 stored batches.
 * `fleet`: agents spread over three nodes at the given interval; loadgen's round trips, CPU and
 * sockets per node.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Subprocess } from "bun";
import postgres from "postgres";
import { freePort, startEmbeddedPostgres } from "../db/embedded.ts";
import { BENCH_ADMIN } from "./lib/bench-server.ts";
import { descendants, sampler } from "./lib/proc.ts";

const { values: opt, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    agents: { type: "string" },
    commands: { type: "string", default: "300" },
    seconds: { type: "string" },
    interval: { type: "string", default: "5" },
  },
});
const what = positionals[0] ?? "latency";
const dir = mkdtempSync(join(tmpdir(), "sentpulse-bench-cluster-"));
const pg = await startEmbeddedPostgres(join(dir, "pg"));
const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
const SECRET_KEY = Buffer.alloc(32, 9).toString("base64");
const procs: Subprocess[] = [];

async function freshDb(name: string): Promise<string> {
  await admin.unsafe(`create database ${name}`);
  return pg.url.replace(/\/[^/]+$/, `/${name}`);
}

function startNats() {
  const port = freePort();
  mkdirSync(join(dir, "nats"), { recursive: true });
  const p = Bun.spawn(["nats-server", "-js", "-a", "127.0.0.1", "-p", String(port), "-sd", join(dir, "nats")], {
    stdout: "ignore",
    stderr: "ignore",
  });
  procs.push(p);
  return { url: `nats://127.0.0.1:${port}`, pid: p.pid, proc: p };
}

interface BenchNode {
  url: string;
  pid: number;
  node: string | undefined;
}

async function startNode(databaseUrl: string, natsUrl: string | undefined, name: string): Promise<BenchNode> {
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const p = Bun.spawn(["bun", "server/main.ts"], {
    env: {
      ...process.env,
      ...BENCH_ADMIN,
      SENTPULSE_PORT: String(port),
      SENTPULSE_HOST: "127.0.0.1",
      SENTPULSE_DATA_DIR: join(dir, `data-${name}`),
      SENTPULSE_DATABASE_URL: databaseUrl,
      SENTPULSE_SECRET_KEY: SECRET_KEY,
      SENTPULSE_LOG_LEVEL: "warn",
      ...(natsUrl ? { SENTPULSE_NATS_URL: natsUrl } : {}),
    },
    stdout: "ignore",
    stderr: Bun.file(join(dir, `${name}.log`)),
  });
  procs.push(p);
  for (let i = 0; ; i++) {
    const r = await fetch(`${url}/readyz`).catch(() => undefined);
    if (r?.ok) return { url, pid: p.pid, node: ((await r.json()) as { nats?: { node: string } }).nats?.node };
    if (i > 240 || p.exitCode !== null) throw new Error(`node ${name} did not become ready`);
    await Bun.sleep(250);
  }
}

async function cluster(n: number, withNats: boolean, label: string) {
  const first = procs.length;
  const db = await freshDb(label);
  const nats = withNats ? startNats() : undefined;
  if (nats) await Bun.sleep(500);
  const nodes = [await startNode(db, nats?.url, `${label}-1`)];
  nodes.push(...(await Promise.all(Array.from({ length: n - 1 }, (_, i) => startNode(db, nats?.url, `${label}-${i + 2}`)))));
  const login = await fetch(`${nodes[0]!.url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: BENCH_ADMIN.SENTPULSE_ADMIN_EMAIL, password: BENCH_ADMIN.SENTPULSE_ADMIN_PASSWORD }),
  });
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  if (withNats)
    for (let i = 0; i < 100; i++) {
      const seen = await Promise.all(
        nodes.map(async (x) => ((await (await fetch(`${x.url}/readyz`)).json()) as { nats: { nodes: number } }).nats.nodes),
      );
      if (seen.every((s) => s === n)) break;
      await Bun.sleep(200);
    }
  const sql = postgres(db, { max: 2, onnotice: () => {} });
  return {
    nodes,
    nats,
    cookie,
    sql,
    /** Ends this phase's processes (loadgen included) so the next phase has the machine. */
    async stop() {
      // loadgen's workers are its children: they go first
      for (const p of procs.slice(first))
        for (const child of descendants(p.pid))
          try {
            process.kill(child, "SIGTERM");
          } catch {}
      for (const p of procs.slice(first).reverse()) if (p.exitCode === null) p.kill("SIGTERM");
      await Promise.all(procs.slice(first).map((p) => p.exited));
      await sql.end();
    },
  };
}

function loadgen(servers: string[], agents: number, seconds: number, intervalS: number) {
  const p = Bun.spawn(
    [
      "bun",
      "scripts/loadgen.ts",
      "--server",
      servers.join(","),
      "--agents",
      String(agents),
      "--duration",
      String(seconds),
      "--interval",
      String(intervalS),
      "--json",
    ],
    { env: { ...process.env, ...BENCH_ADMIN }, stdout: "pipe", stderr: "ignore" },
  );
  procs.push(p);
  return {
    proc: p,
    async result() {
      const out = await new Response(p.stdout).text();
      return JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
    },
  };
}

async function connected(sql: postgres.Sql, n: number) {
  for (let i = 0; i < 600; i++) {
    const [{ c }] = (await sql`select count(*)::int as c from devices where ws_node is not null and status = 'online'`) as unknown as [
      { c: number },
    ];
    if (c >= n) return;
    await Bun.sleep(500);
  }
  throw new Error("agents did not connect");
}

/** A dashboard's live socket: resolves command finals by id, records telemetry delays. */
async function dashboard(url: string, cookie: string, deviceIds: string[]) {
  const ws = new WebSocket(`${url.replace("http", "ws")}/api/v1/live`, { headers: { cookie, origin: url } } as unknown as string[]);
  const waiting = new Map<string, () => void>();
  const finals = new Set<string>();
  const telemetryMs: number[] = [];
  let recording = false;
  ws.addEventListener("message", (e) => {
    const f = JSON.parse(String(e.data)) as { type: string; data: Record<string, unknown> };
    if (f.type === "command.updated" && f.data.status !== "running") {
      const id = String(f.data.commandId);
      finals.add(id);
      waiting.get(id)?.();
    } else if (f.type === "device.telemetry" && recording) {
      telemetryMs.push(Date.now() - Date.parse(String((f.data.point as { time: string }).time)));
    }
  });
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve);
    ws.addEventListener("close", () => reject(new Error("live socket closed")));
  });
  for (const d of deviceIds) ws.send(JSON.stringify({ type: "watch", deviceId: d }));
  return {
    ws,
    telemetryMs,
    record: (on: boolean) => {
      recording = on;
    },
    final: (id: string) => (finals.has(id) ? Promise.resolve() : new Promise<void>((resolve) => waiting.set(id, resolve))),
  };
}

const pct = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => Number((s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? Number.NaN).toFixed(1));
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: Number((s.at(-1) ?? Number.NaN).toFixed(1)) };
};

async function latency(label: string, n: number) {
  const agents = Number(opt.agents ?? 20);
  const seconds = Number(opt.seconds ?? 30);
  const c = await cluster(n, n > 1, label);
  const gen = loadgen([c.nodes[0]!.url], agents, seconds + 60 + Number(opt.commands) / 20, 1);
  await connected(c.sql, agents);
  const devices = (await c.sql`select id from devices order by id`).map((r) => String(r.id));
  const at = c.nodes[n > 1 ? 1 : 0]!; // the dashboard's (and the request's) node
  const dash = await dashboard(at.url, c.cookie, devices);
  await Bun.sleep(2000);
  const commandMs: number[] = [];
  for (let i = 0; i < Number(opt.commands); i++) {
    const deviceId = devices[i % devices.length]!;
    const t0 = performance.now();
    const res = await fetch(`${at.url}/api/v1/devices/${deviceId}/commands`, {
      method: "POST",
      headers: { cookie: c.cookie, origin: at.url, "content-type": "application/json" },
      body: JSON.stringify({ type: "run_script", payload: { language: "sh", content: "echo ok" } }),
    });
    const { id } = (await res.json()) as { id: string };
    await dash.final(id);
    commandMs.push(performance.now() - t0);
  }
  dash.record(true);
  await Bun.sleep(seconds * 1000);
  dash.record(false);
  dash.ws.close();
  gen.proc.kill("SIGTERM");
  await c.stop();
  return { label, nodes: n, agents, commandRoundTripMs: pct(commandMs), liveTelemetryDelayMs: pct(dash.telemetryMs) };
}

async function cpu(label: string, withNats: boolean, watched: boolean) {
  const agents = Number(opt.agents ?? 300);
  const seconds = Number(opt.seconds ?? 40);
  const c = await cluster(3, withNats, label);
  const gen = loadgen(
    c.nodes.map((x) => x.url),
    agents,
    seconds + 30,
    1,
  );
  await connected(c.sql, agents);
  const dashes: Awaited<ReturnType<typeof dashboard>>[] = [];
  if (watched) {
    // every device watched from node 3 (50 per socket, the most one socket may watch): the samples of
    // the devices on nodes 1 and 2 cross the bus
    const devices = (await c.sql`select id from devices`).map((r) => String(r.id));
    for (let i = 0; i < devices.length; i += 50) dashes.push(await dashboard(c.nodes[2]!.url, c.cookie, devices.slice(i, i + 50)));
    for (const d of dashes) d.record(true);
  }
  await Bun.sleep(5000);
  const batches = async () =>
    Number(((await c.sql`select count(distinct (device_id, batch_seq))::int as n from device_telemetry`)[0] as { n: number }).n);
  const before = await batches();
  const s = sampler(() => [...c.nodes.map((x) => x.pid), ...(c.nats ? [c.nats.pid] : [])]);
  const natsOnly = c.nats ? sampler(() => [c.nats!.pid]) : undefined;
  await Bun.sleep(seconds * 1000);
  const used = s.stop();
  const natsUsed = natsOnly?.stop();
  const stored = (await batches()) - before;
  for (const d of dashes) d.ws.close();
  gen.proc.kill("SIGTERM");
  await c.stop();
  const cpuSeconds = (used.cpuPercentOfOneCore / 100) * used.seconds;
  return {
    label,
    agents,
    batchesStored: stored,
    cpuSecondsPer1000Batches: Number(((cpuSeconds / stored) * 1000).toFixed(3)),
    natsServerCpuSecondsPer1000Batches: natsUsed
      ? Number(((((natsUsed.cpuPercentOfOneCore / 100) * natsUsed.seconds) / stored) * 1000).toFixed(3))
      : null,
    liveFramesOnNode3: dashes.reduce((n, d) => n + d.telemetryMs.length, 0),
    serversCpuPercentOfOneCore: used.cpuPercentOfOneCore,
  };
}

async function fleet() {
  const agents = Number(opt.agents ?? 10000);
  const seconds = Number(opt.seconds ?? 60);
  const c = await cluster(3, true, "fleet");
  const s = sampler(() => c.nodes.map((x) => x.pid));
  const natsS = sampler(() => [c.nats!.pid]);
  const gen = loadgen(
    c.nodes.map((x) => x.url),
    agents,
    seconds,
    Number(opt.interval),
  );
  // sockets per node and agents each node knows to be elsewhere, at their highest during the run
  const perNode = c.nodes.map(() => 0);
  const remote = c.nodes.map(() => 0);
  const poll = setInterval(async () => {
    for (const [i, x] of c.nodes.entries()) {
      const r = await fetch(`${x.url}/readyz`).catch(() => undefined);
      perNode[i] = Math.max(perNode[i]!, ((await r?.json()) as { agentsConnected?: number } | undefined)?.agentsConnected ?? 0);
      const m = await fetch(`${x.url}/metrics`, { headers: { cookie: c.cookie } }).catch(() => undefined);
      const line = (await m?.text())?.split("\n").find((l) => l.startsWith("sentpulse_cluster_remote_agents "));
      remote[i] = Math.max(remote[i]!, Number(line?.split(" ")[1] ?? 0));
    }
  }, 3000);
  const result = await gen.result();
  clearInterval(poll);
  const metrics = await Promise.all(
    c.nodes.map(async (x) => {
      const text = await (await fetch(`${x.url}/metrics`, { headers: { cookie: c.cookie } })).text();
      const line = (name: string) => text.split("\n").find((l) => l.startsWith(name));
      return { bytesSent: line("sentpulse_cluster_bytes_sent_total"), bytesReceived: line("sentpulse_cluster_bytes_received_total") };
    }),
  );
  const out = {
    agents,
    seconds,
    serverCpu: s.stop(),
    natsCpu: natsS.stop(),
    agentsPerNodeMax: perNode,
    remoteAgentsKnownMax: remote,
    bus: metrics,
    loadgen: result,
  };
  await c.stop();
  return out;
}

try {
  const out: unknown[] = [];
  const load = () => loadavg().map((l) => l.toFixed(2));
  out.push({ loadAverageAtStart: load() });
  if (what === "latency") {
    out.push(await latency("single", 1));
    out.push(await latency("cluster", 3));
  } else if (what === "cpu") {
    out.push(await cpu("three_no_nats", false, false));
    out.push(await cpu("three_nats", true, false));
    out.push(await cpu("three_nats_watched", true, true));
  } else if (what === "fleet") {
    out.push(await fleet());
  } else throw new Error(`unknown benchmark ${what}: latency, cpu or fleet`);
  out.push({ loadAverageAtEnd: load() });
  console.log(JSON.stringify(out, null, 2));
} finally {
  for (const p of procs.reverse()) if (p.exitCode === null) p.kill("SIGTERM");
  await Promise.all(procs.map((p) => p.exited));
  await admin.end();
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
