import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { startNats } from "../testing/cluster.ts";
import { startTestServer, type TestServer, waitFor } from "../testing/harness.ts";
import { DUTIES } from "./types.ts";

/**
 * Two server nodes in this process on one database, joined over Debian's nats-server (JetStream):
 * what they tell each other, what they refuse to read, and who holds the duties.
 */
const dir = mkdtempSync(join(tmpdir(), "sentpulse-cluster-unit-"));
let nats: Awaited<ReturnType<typeof startNats>>;
let a: TestServer;
let b: TestServer;
let raw: NatsConnection;
let aStopped = false;

beforeAll(async () => {
  nats = await startNats(dir);
  a = await startTestServer({ natsUrl: nats.url });
  b = await startTestServer({ natsUrl: nats.url }, a.databaseUrl);
  raw = await connect({ servers: nats.url });
  await waitFor(
    "the nodes hear each other",
    async () => a.server.services.cluster?.nodes() === 2 && b.server.services.cluster?.nodes() === 2,
  );
});
afterAll(async () => {
  await raw?.close();
  await b?.stop();
  if (!aStopped) await a?.stop();
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const held = (s: TestServer) => s.server.services.cluster?.duties() ?? [];

describe("a cluster of two nodes", () => {
  test("/readyz names NATS, the nodes and the duties held; /metrics has the bus families", async () => {
    const res = await a.api("/readyz");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ok: boolean; nats: { connected: boolean; server: string; nodes: number; duties: string[] } };
    expect(body.ok).toBe(true);
    expect(body.nats).toMatchObject({ connected: true, nodes: 2 });
    expect(body.nats.server).toBe(`127.0.0.1:${nats.port}`);
    const scrape = async () => parsePrometheusTextFormat(await (await a.api("/metrics")).text());
    // a node beats every second: the first beat may not have gone out yet right after the start
    const metrics = await waitFor("a beat sent", async () => {
      const m = await scrape();
      const beats = m.find((f) => f.name === "sentpulse_cluster_messages_sent_total")?.metrics.find((x) => x.labels?.kind === "beat");
      return Number(beats?.value) > 0 ? m : undefined;
    });
    const family = (name: string) => metrics.find((m) => m.name === name);
    expect(family("sentpulse_cluster_nats_connected")?.metrics[0]?.value).toBe("1");
    expect(family("sentpulse_cluster_nodes")?.metrics[0]?.value).toBe("2");
    expect(family("sentpulse_cluster_duty_held")?.metrics).toHaveLength(DUTIES.length);
  });

  test("every duty is held by exactly one node", async () => {
    await waitFor("all duties held", async () => held(a).length + held(b).length === DUTIES.length);
    expect(new Set([...held(a), ...held(b)]).size).toBe(DUTIES.length);
  });

  test("an event for every node reaches the other node once; one for the publisher's node stays there", async () => {
    const seen: string[] = [];
    const offs = [
      b.server.services.bus.subscribe("device.changed", (e) => void seen.push(`all:${e.deviceIds[0]}`), { nodes: "all" }),
      b.server.services.bus.subscribe("device.changed", (e) => void seen.push(`origin:${e.deviceIds[0]}`)),
      a.server.services.bus.subscribe("device.changed", (e) => void seen.push(`a-others:${e.deviceIds[0]}`), { nodes: "others" }),
    ];
    const id = crypto.randomUUID();
    a.server.services.bus.publish("device.changed", { deviceIds: [id] });
    await waitFor("delivered on b", async () => seen.includes(`all:${id}`));
    await Bun.sleep(200);
    expect(seen.filter((s) => s.endsWith(id))).toEqual([`all:${id}`]);
    for (const off of offs) off();
  });

  test("an alert rule changed through one node makes the other reload its rules at once", async () => {
    const reloads: string[] = [];
    const off = b.server.services.bus.subscribe("rules.changed", (e) => void reloads.push(e.organizationId), { nodes: "others" });
    const res = await a.api("/api/v1/alert-rules", {
      body: { name: "CPU high", metric: "cpu_percent", operator: ">", threshold: 90, durationSeconds: 0, severity: "warning" },
    });
    expect(res.status).toBe(201);
    await waitFor("rules.changed on b", async () => reloads.length === 1);
    off();
  });

  test("messages that are not ours are dropped and counted; calls with a bad shape are answered BAD_CALL; the node keeps working", async () => {
    const stats = b.server.services.cluster!.stats;
    const before = stats.dropped;
    raw.publish("sentpulse.presence", "not json");
    raw.publish("sentpulse.presence", JSON.stringify({ o: "someone", b: { up: "x", down: [] } }));
    raw.publish("sentpulse.watch", JSON.stringify({ o: "someone", b: { on: Array(6000).fill("d"), off: [] } }));
    raw.publish("sentpulse.live", JSON.stringify({ o: "someone", b: { org: "not-a-uuid", ev: {} } }));
    raw.publish("sentpulse.events.device.changed", JSON.stringify({ nobody: true }));
    raw.publish("sentpulse.disconnect", JSON.stringify({ o: "someone", b: { d: crypto.randomUUID(), s: -5 } }));
    const nodeId = b.server.services.nodeId;
    const answer = await raw.request(`sentpulse.node.${nodeId}.call`, JSON.stringify({ o: "someone", b: { d: "x" } }), { timeout: 2000 });
    expect(answer.json<{ b: unknown }>().b).toEqual({ ok: false, code: "BAD_CALL" });
    const missing = await raw.request(
      `sentpulse.node.${nodeId}.call`,
      JSON.stringify({ o: "someone", b: { d: crypto.randomUUID(), f: { type: "toolbox", deadline: Date.now() + 1000, data: {} } } }),
      { timeout: 2000 },
    );
    expect(missing.json<{ b: unknown }>().b).toEqual({ ok: false, code: "NOT_CONNECTED" });
    await waitFor("dropped counted", async () => stats.dropped - before >= 7);
    expect((await b.api("/readyz")).status).toBe(200);
  });

  test("presence: a node's whole list replaces what it announced before only once its last chunk is in; a silent node is forgotten", async () => {
    const agents = b.server.services.agents;
    const [d1, d2] = [crypto.randomUUID(), crypto.randomUUID()];
    const say = (body: unknown) => raw.publish("sentpulse.presence", JSON.stringify({ o: "node-x", b: body }));
    say({ up: [d1, d2], down: [], reset: true, last: true });
    await waitFor("both known on b", async () => agents.isConnected(d1) && agents.isConnected(d2));
    say({ up: [d2], down: [], reset: true });
    await raw.flush();
    await Bun.sleep(100);
    expect(agents.isConnected(d1)).toBe(true); // the list is not complete yet
    say({ up: [], down: [], last: true });
    await waitFor("d1 forgotten at the last chunk", async () => !agents.isConnected(d1));
    expect(agents.isConnected(d2)).toBe(true);
    say({ up: [], down: [d2] });
    await waitFor("d2 gone", async () => !agents.isConnected(d2));
    say({ up: [d1], down: [] });
    await waitFor("d1 back", async () => agents.isConnected(d1));
    // node-x never beats: after the liveness window it is dead to b, its agents with it
    await waitFor("node-x forgotten", async () => !agents.isConnected(d1), 10_000);
  });

  test("a call to an agent no node holds answers NOT_CONNECTED (not a deadline passed)", async () => {
    const r = await a.server.services.agents.call(crypto.randomUUID(), { type: "toolbox", data: { op: "processes" } } as never, 5000);
    expect(r).toEqual({ ok: false, code: "NOT_CONNECTED" });
  });

  test("a node that leaves gives its duties back: the other holds them all within a renewal", async () => {
    const before = held(a);
    aStopped = true;
    await a.stop();
    await waitFor("b holds every duty", async () => held(b).length === DUTIES.length, 10_000);
    expect(before.length + held(b).length).toBeGreaterThan(0);
    expect(b.server.services.cluster?.nodes()).toBe(1);
  });
});
