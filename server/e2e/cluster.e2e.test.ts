import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import postgres from "postgres";
import { freePort } from "../../db/embedded.ts";
import { type Node, natsLink, startHaproxy, startNats, startNode } from "../testing/cluster.ts";
import { ADMIN, agentBinary, freshDatabase, login, waitFor } from "../testing/harness.ts";

/**
 * The cluster with its real parts, all on loopback and started here: Debian's nats-server with
 * JetStream, three server processes on one PostgreSQL (each reaching NATS through its own link, so
 * one can be cut off), Debian's HAProxy in front, and the real compiled agent going through HAProxy.
 */
const dir = mkdtempSync(join(tmpdir(), "sentpulse-cluster-"));
const lbPort = freePort();
const publicUrl = `http://127.0.0.1:${lbPort}`;
let nats: Awaited<ReturnType<typeof startNats>>;
let lb: Awaited<ReturnType<typeof startHaproxy>>;
const links: Record<string, ReturnType<typeof natsLink>> = {};
const nodes: Node[] = [];
let sql: postgres.Sql;
let cookie: string;
let deviceId: string;
let agentProc: Subprocess | undefined;
let agentLog = "";
let configPath = "";
let databaseUrl = "";

const alive = (n: Node) => n.proc.exitCode === null && !n.proc.killed;

async function api(node: { url: string }, path: string, body?: unknown, method = body === undefined ? "GET" : "POST") {
  return fetch(`${node.url}${path}`, {
    method,
    headers: { cookie, origin: publicUrl, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

function startAgent() {
  agentProc = Bun.spawn([join(import.meta.dir, "../../dist/agent/sentpulse-agent-linux-x64"), "run", "--config", configPath], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, SENTPULSE_AGENT_DEBUG: "1" },
  });
  for (const s of [agentProc.stdout, agentProc.stderr] as ReadableStream<Uint8Array>[])
    void (async () => {
      for await (const chunk of s) agentLog = (agentLog + new TextDecoder().decode(chunk)).slice(-50_000);
    })();
}

/** The node whose socket the agent is on (asked of each node: only the holder counts it). */
async function holder(except?: Node): Promise<Node> {
  return waitFor(
    "the agent's node",
    async () => {
      for (const n of nodes) {
        if (n === except || !alive(n)) continue;
        if ((await n.readyz())?.agentsConnected === 1) return n;
      }
      return undefined;
    },
    45_000,
    200,
  );
}

/** A dashboard's live socket on one node, with every frame it got. */
function liveSocket(node: Node) {
  const ws = new WebSocket(`${node.url.replace("http", "ws")}/api/v1/live`, {
    headers: { cookie, origin: publicUrl },
  } as unknown as string[]);
  const frames: { type: string; data: Record<string, unknown> }[] = [];
  ws.addEventListener("message", (e) => frames.push(JSON.parse(String(e.data))));
  const opened = new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve());
    ws.addEventListener("close", () => reject(new Error(`live socket on ${node.name} closed`)));
  });
  return { ws, frames, opened, watch: () => ws.send(JSON.stringify({ type: "watch", deviceId })) };
}

/** Runs a shell script on the device through `node`; the script appends a line to `file` each time it runs. */
async function runScript(node: Node, content: string): Promise<string> {
  const res = await api(node, `/api/v1/devices/${deviceId}/commands`, { type: "run_script", payload: { language: "sh", content } });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

async function finished(id: string, timeoutMs = 60_000) {
  return waitFor(
    `command ${id} final`,
    async () => {
      const [c] = await sql<{ status: string; stdout: string }[]>`select status, stdout from commands where id = ${id}`;
      return c && !["queued", "sent", "running"].includes(c.status) ? c : undefined;
    },
    timeoutMs,
    200,
  );
}

const runsOf = (file: string) => {
  try {
    return readFileSync(file, "utf8").split("\n").filter(Boolean).length;
  } catch {
    return 0;
  }
};

/** Samples stored for the device in a window: none twice, and none missing (no gap above `maxGapS`). */
async function samplesBetween(from: Date, to: Date) {
  const rows = await sql<{ time: Date; n: number }[]>`
    select time, count(*)::int as n from device_telemetry where device_id = ${deviceId} and time between ${from} and ${to}
    group by time order by time`;
  const gaps = rows.slice(1).map((r, i) => (r.time.getTime() - rows[i]!.time.getTime()) / 1000);
  return { count: rows.length, duplicated: rows.filter((r) => r.n > 1).length, maxGapS: Math.max(0, ...gaps) };
}

beforeAll(async () => {
  databaseUrl = await freshDatabase();
  sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  nats = await startNats(dir);
  const env = { SENTPULSE_PUBLIC_URL: publicUrl, SENTPULSE_TELEMETRY_INTERVAL_S: "1", SENTPULSE_SCHEDULER_INTERVAL_MS: "500" };
  const start = (name: string) => {
    links[name] = natsLink(nats.port);
    return startNode(name, { dir, databaseUrl, natsUrl: links[name]!.url, env });
  };
  nodes.push(await start("one")); // migrates and creates the admin first
  nodes.push(...(await Promise.all([start("two"), start("three")])));
  lb = await startHaproxy(dir, nodes, lbPort);
  cookie = await login(lb.url, ADMIN.email, ADMIN.password);
  await waitFor("every node hears the two others", async () => {
    const all = await Promise.all(nodes.map((n) => n.readyz()));
    return all.every((r) => r?.nats?.nodes === 3);
  });

  const tokenRes = await api(lb, "/api/v1/enrollment-tokens", {});
  expect(tokenRes.status).toBe(201);
  const { token } = (await tokenRes.json()) as { token: string };
  const bin = await agentBinary();
  configPath = join(dir, "agent.json");
  const enroll = Bun.spawn([bin, "enroll", "--server", lb.url, "--token", token, "--config", configPath], {
    stdout: "pipe",
    stderr: "pipe",
  });
  if ((await enroll.exited) !== 0)
    throw new Error(
      `enroll failed: ${await new Response(enroll.stderr).text()}\n${lb.output()}\n${nodes.map((n) => n.log().slice(-2000)).join("\n")}`,
    );
  deviceId = (JSON.parse(readFileSync(configPath, "utf8")) as { deviceId: string }).deviceId;
  startAgent();
  await waitFor("online", async () => (await sql`select status from devices where id = ${deviceId}`)[0]?.status === "online", 45_000);
}, 240_000);

afterAll(async () => {
  if (process.env.SENTPULSE_CLUSTER_LOGS) {
    for (const n of nodes) await Bun.write(join(process.env.SENTPULSE_CLUSTER_LOGS, `${n.name}.log`), n.log());
    await Bun.write(join(process.env.SENTPULSE_CLUSTER_LOGS, "agent.log"), agentLog);
    await Bun.write(join(process.env.SENTPULSE_CLUSTER_LOGS, "haproxy.log"), lb?.output() ?? "");
  }
  agentProc?.kill("SIGTERM");
  await agentProc?.exited;
  for (const n of nodes) if (alive(n)) n.proc.kill("SIGKILL");
  await Promise.all(nodes.map((n) => n.proc.exited));
  await lb?.stop();
  await nats?.stop();
  for (const l of Object.values(links)) l.cut();
  await sql?.end();
  rmSync(dir, { recursive: true, force: true });
});

describe("three nodes, NATS between them, HAProxy in front", () => {
  test("a terminal opened through another node than the agent's echoes", async () => {
    const a = await holder();
    const b = nodes.find((n) => n !== a)!;
    const ws = new WebSocket(`${b.url.replace("http", "ws")}/api/v1/devices/${deviceId}/terminal`, {
      headers: { cookie, origin: publicUrl },
    } as unknown as string[]);
    const frames: { type: string; data?: string }[] = [];
    ws.addEventListener("message", (e) => frames.push(JSON.parse(String(e.data))));
    await new Promise((resolve) => ws.addEventListener("open", resolve));
    ws.send(JSON.stringify({ type: "input", data: "echo hi-$((40+2))\r" }));
    const output = () =>
      frames
        .filter((f) => f.type === "output")
        .map((f) => f.data)
        .join("");
    await waitFor("the shell's answer through the other node", async () => output().includes("hi-42"), 20_000);
    ws.send(JSON.stringify({ type: "input", data: "exit\r" }));
    await waitFor("exit", async () => frames.some((f) => f.type === "exit"), 15_000);
    const [s] = await sql`select end_reason from terminal_sessions where device_id = ${deviceId} order by started_at desc limit 1`;
    expect(s?.end_reason).toBe("exit 0");
  });

  test("a call to the agent (the toolbox's process list) asked of another node is answered through the agent's node", async () => {
    const a = await holder();
    const b = nodes.find((n) => n !== a)!;
    const res = await api(b, `/api/v1/devices/${deviceId}/processes`);
    const body = await res.text();
    expect(`${res.status} ${body.slice(0, 300)}`).toStartWith("200 ");
    expect(body).toContain("sentpulse-agent");
  });

  test("a script posted to a third node runs once and its live output reaches a dashboard on another node", async () => {
    const a = await holder();
    const [b, c] = nodes.filter((n) => n !== a) as [Node, Node];
    const dash = liveSocket(b);
    await dash.opened;
    dash.watch();
    const file = join(dir, "runs-script");
    const id = await runScript(c, `echo run >> ${file}; echo out-$((6*7))`);
    expect((await finished(id)).status).toBe("succeeded");
    await waitFor(
      "command output on the other node's dashboard",
      async () =>
        dash.frames.some((f) => f.type === "command.updated" && f.data.commandId === id && String(f.data.stdout).includes("out-42")),
      15_000,
    );
    await Bun.sleep(1000);
    expect(runsOf(file)).toBe(1);
    dash.ws.close();
  });

  test("a status change shows on all three nodes' dashboards", async () => {
    const dashes = nodes.map(liveSocket);
    await Promise.all(dashes.map((d) => d.opened));
    agentProc?.kill("SIGTERM");
    await agentProc?.exited;
    const statusOn = (d: ReturnType<typeof liveSocket>, status: string) =>
      d.frames.some((f) => f.type === "device.status" && f.data.deviceId === deviceId && f.data.status === status);
    await waitFor("unresponsive on every node", async () => dashes.every((d) => statusOn(d, "unresponsive")), 20_000);
    startAgent();
    await waitFor("online again on every node", async () => dashes.every((d) => statusOn(d, "online")), 30_000);
    for (const d of dashes) d.ws.close();
  });

  test("killing the agent's node moves the agent: no sample lost or stored twice, the command in flight ran once", async () => {
    const a = await holder();
    const others = nodes.filter((n) => n !== a);
    await Bun.sleep(3000); // a few samples stored through node A
    const file = join(dir, "runs-kill");
    const id = await runScript(others[0]!, `echo run >> ${file}; sleep 4; echo done`);
    await waitFor("the script started", async () => runsOf(file) === 1, 20_000);
    const killedAt = new Date();
    await a.kill();
    const moved = await holder(a);
    expect(others).toContain(moved);
    expect((await finished(id)).status).toBe("succeeded");
    await Bun.sleep(4000); // replayed spool and new samples stored through the new node
    const s = await samplesBetween(new Date(killedAt.getTime() - 3000), new Date(Date.now() - 1500));
    expect(s.duplicated).toBe(0);
    expect(s.maxGapS).toBeLessThan(2.5);
    expect(s.count).toBeGreaterThan(5);
    expect(runsOf(file)).toBe(1);
  });

  test("a schedule runs once on the cluster", async () => {
    const up = nodes.filter((n) => alive(n));
    const file = join(dir, "runs-schedule");
    const res = await api(up[0]!, "/api/v1/schedules", {
      name: "once",
      runAt: new Date(Date.now() + 2000).toISOString(),
      target: { deviceIds: [deviceId] },
      language: "sh",
      content: `echo run >> ${file}`,
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    await waitFor("the schedule's run", async () => runsOf(file) === 1, 30_000);
    await Bun.sleep(3000); // every node had several scheduler ticks to run it again
    expect(runsOf(file)).toBe(1);
    expect((await sql`select count(*)::int as n from schedule_runs where schedule_id = ${id}`)[0]?.n).toBe(1);
  });
});

describe("faults", () => {
  test("NATS restarted mid-run: nodes reconnect, a command posted meanwhile runs once, live events resume", async () => {
    const a = await holder();
    const b = nodes.find((n) => n !== a && alive(n))!;
    const dash = liveSocket(b);
    await dash.opened;
    dash.watch();
    await waitFor("live telemetry through NATS", async () => dash.frames.some((f) => f.type === "device.telemetry"), 15_000);
    await nats.stop();
    const file = join(dir, "runs-nats");
    const id = await runScript(b, `echo run >> ${file}`);
    await Bun.sleep(1000);
    await nats.restart();
    expect((await finished(id)).status).toBe("succeeded");
    expect(runsOf(file)).toBe(1);
    const seen = dash.frames.length;
    await waitFor("live telemetry again", async () => dash.frames.slice(seen).some((f) => f.type === "device.telemetry"), 20_000);
    await waitFor("every node connected again", async () =>
      (await Promise.all(nodes.filter((n) => alive(n)).map((n) => n.readyz()))).every((r) => r?.nats?.connected),
    );
    dash.ws.close();
  });

  test("a node cut from NATS stops claiming cluster duties and its agent moves to another node", async () => {
    const a = await holder();
    const survivor = nodes.find((n) => n !== a && alive(n))!;
    links[a.name]!.cut();
    await waitFor(
      "node A not ready, without duties",
      async () => {
        const r = await a.readyz();
        return r?.ok === false && r.nats?.connected === false && r.nats.duties.length === 0;
      },
      30_000,
    );
    const moved = await holder(a);
    expect(moved).not.toBe(a);
    await waitFor(
      "every duty held by a connected node",
      async () => {
        const held = (await Promise.all(nodes.filter((n) => n !== a && alive(n)).map((n) => n.readyz()))).flatMap(
          (r) => r?.nats?.duties ?? [],
        );
        return held.length === 5 && new Set(held).size === 5;
      },
      30_000,
    );
    const file = join(dir, "runs-cut");
    const id = await runScript(survivor, `echo run >> ${file}`);
    expect((await finished(id)).status).toBe("succeeded");
    expect(runsOf(file)).toBe(1);
    links[a.name]!.restore();
    await waitFor("node A back", async () => (await a.readyz())?.nats?.connected === true, 30_000);
  });

  test("a node stopped gracefully drains its sockets: the agent moves without a gap in its samples", async () => {
    const a = await holder();
    await Bun.sleep(2000);
    const stoppedAt = new Date();
    await a.stop();
    expect(a.proc.exitCode).toBe(0);
    expect(a.log()).not.toContain('"level":"error"');
    await holder(a);
    await Bun.sleep(4000);
    const s = await samplesBetween(new Date(stoppedAt.getTime() - 2000), new Date(Date.now() - 1500));
    expect(s.duplicated).toBe(0);
    expect(s.maxGapS).toBeLessThan(2.5);
  });
});
