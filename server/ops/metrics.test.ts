import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import parsePrometheusTextFormat, { type ParsedFamily } from "parse-prometheus-text-format";
import type { ServerFrame } from "../protocol/frames.ts";
import { signBody, signingKey, socketChallenge } from "../protocol/signing.ts";
import { command, enrollDevice, notification, notificationChannel, sample } from "../testing/fixtures.ts";
import { startTestServer, type TestServer, waitFor } from "../testing/harness.ts";

const TOKEN = "scrape-token-0123456789";
let srv: TestServer;
let second: TestServer;

/** A device enrolled through the API, with no agent process behind it. */
const newDevice = () => enrollDevice(srv, `host-${crypto.randomUUID().slice(0, 8)}`);

/** Connects as the device over the real agent socket and sends `batches` telemetry frames, each waited for until acked. */
async function pushTelemetry(d: { deviceId: string; secret: string }, batches: number, samplesPerBatch: number): Promise<WebSocket> {
  const ts = Date.now();
  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64url");
  const sig = signBody(signingKey(d.secret), ts, socketChallenge(d.deviceId, nonce));
  const q = new URLSearchParams({ device: d.deviceId, ts: String(ts), nonce, sig });
  const ws = new WebSocket(`${srv.url.replace("http", "ws")}/api/agent/v1/ws?${q}`);
  const frames: ServerFrame[] = [];
  ws.addEventListener("message", (e) => frames.push(JSON.parse(String(e.data))));
  await waitFor("welcome", async () => frames.some((f) => f.type === "welcome"));
  for (let seq = 1; seq <= batches; seq++) {
    const samples = Array.from({ length: samplesPerBatch }, (_, i) => sample(new Date(Date.now() - (samplesPerBatch - i) * 1000)));
    ws.send(JSON.stringify({ v: 1, id: `t${seq}`, type: "telemetry", data: { seq, samples } }));
    await waitFor(`ack ${seq}`, async () => frames.some((f) => f.type === "ack" && f.data.seq === seq));
  }
  // a replay of the last batch: acknowledged as a duplicate
  ws.send(JSON.stringify({ v: 1, id: "again", type: "telemetry", data: { seq: batches, samples: [sample()] } }));
  await waitFor("duplicate ack", async () => frames.some((f) => f.type === "ack" && f.data.seq === batches && !f.data.stored));
  return ws;
}

async function scrape(headers: Record<string, string>, server = srv): Promise<Response> {
  return fetch(`${server.url}/metrics`, { headers });
}

function family(families: ParsedFamily[], name: string): ParsedFamily {
  const f = families.find((x) => x.name === name);
  if (!f) throw new Error(`no metric family ${name}`);
  return f;
}

const value = (families: ParsedFamily[], name: string, labels: Record<string, string> = {}) =>
  Number(family(families, name).metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value ?? Number.NaN);

async function apiKey(role: "admin" | "readonly"): Promise<string> {
  const res = await srv.api("/api/v1/api-keys", { body: { name: `metrics ${role}`, role }, headers: { origin: srv.url } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { key: string }).key;
}

beforeAll(async () => {
  [srv, second] = await Promise.all([startTestServer({ metricsToken: TOKEN }), startTestServer()]);
}, 120_000);
afterAll(async () => {
  await Promise.all([srv?.stop(), second?.stop()]);
});

describe("GET /metrics", () => {
  test("401 without credentials or with a wrong token, 403 for a key below admin", async () => {
    expect((await scrape({})).status).toBe(401);
    expect((await scrape({ authorization: "Bearer scrape-token-0123456780" })).status).toBe(401);
    expect((await scrape({ authorization: `Bearer ${TOKEN}` }, second)).status).toBe(401); // no token configured there
    expect((await scrape({ authorization: `Bearer ${await apiKey("readonly")}` })).status).toBe(403);
  });

  test("after real telemetry: every family parses with a real exposition-format parser and counts what was stored", async () => {
    const d = await newDevice();
    const before = parsePrometheusTextFormat(await (await scrape({ authorization: `Bearer ${TOKEN}` })).text());
    const storedBefore = value(before, "sentpulse_telemetry_samples_stored_total");
    const ws = await pushTelemetry(d, 5, 3);
    const channel = await notificationChannel(srv.sql, d.organizationId);
    await notification(srv.sql, d.organizationId, channel, "dead");
    await notification(srv.sql, d.organizationId, channel, "pending");
    for (const status of ["queued", "running", "succeeded"] as const) await command(srv.sql, d.organizationId, d.deviceId, status);

    const res = await scrape({ authorization: `Bearer ${TOKEN}` });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const families = parsePrometheusTextFormat(await res.text());
    const types = Object.fromEntries(families.map((f) => [f.name, f.type]));
    expect(types).toMatchObject({
      sentpulse_agents_connected: "GAUGE",
      sentpulse_telemetry_batches_total: "COUNTER",
      sentpulse_telemetry_samples_stored_total: "COUNTER",
      sentpulse_telemetry_samples_dropped_total: "COUNTER",
      sentpulse_telemetry_ingest_queued_samples: "GAUGE",
      sentpulse_telemetry_flush_duration_seconds: "HISTOGRAM",
      sentpulse_telemetry_ack_duration_seconds: "HISTOGRAM",
      sentpulse_commands: "GAUGE",
      sentpulse_notification_outbox_pending: "GAUGE",
      sentpulse_notification_dead_letters: "GAUGE",
      sentpulse_db_up: "GAUGE",
      sentpulse_db_pool_max_connections: "GAUGE",
      sentpulse_db_connections: "GAUGE",
      sentpulse_db_scrape_duration_seconds: "GAUGE",
      process_cpu_seconds_total: "COUNTER",
      process_resident_memory_bytes: "GAUGE",
      nodejs_eventloop_lag_p99_seconds: "GAUGE",
    });

    expect(value(families, "sentpulse_agents_connected")).toBe(1);
    expect(value(families, "sentpulse_telemetry_samples_stored_total") - storedBefore).toBe(15);
    expect(value(families, "sentpulse_telemetry_batches_total", { result: "stored" })).toBeGreaterThanOrEqual(5);
    expect(value(families, "sentpulse_telemetry_batches_total", { result: "duplicate" })).toBeGreaterThanOrEqual(1);
    for (const name of ["sentpulse_telemetry_ack_duration_seconds", "sentpulse_telemetry_flush_duration_seconds"]) {
      const h = family(families, name).metrics[0]!;
      const buckets = Object.entries(h.buckets ?? {})
        .map(([le, n]) => [le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le), Number(n)] as const)
        .sort((a, b) => a[0] - b[0]);
      expect(buckets.length).toBeGreaterThan(10);
      // cumulative, ending at the count; every sample well under the last finite bound (41 s)
      expect(buckets.every(([, n], i) => i === 0 || n >= (buckets[i - 1]?.[1] ?? 0))).toBe(true);
      expect(buckets.at(-1)?.[1]).toBe(Number(h.count));
      expect(buckets.at(-2)?.[1]).toBe(Number(h.count));
      expect(Number(h.count)).toBeGreaterThanOrEqual(name.includes("ack") ? 6 : 1);
      expect(Number(h.sum)).toBeGreaterThan(0);
    }
    expect(value(families, "sentpulse_commands", { state: "queued" })).toBe(1);
    expect(value(families, "sentpulse_commands", { state: "running" })).toBe(1);
    expect(value(families, "sentpulse_commands", { state: "sent" })).toBe(0);
    expect(value(families, "sentpulse_notification_outbox_pending")).toBe(1);
    expect(value(families, "sentpulse_notification_dead_letters")).toBe(1);
    expect(value(families, "sentpulse_db_up")).toBe(1);
    expect(value(families, "sentpulse_db_pool_max_connections")).toBe(20);
    expect(family(families, "sentpulse_db_connections").metrics.reduce((n, m) => n + Number(m.value), 0)).toBeGreaterThanOrEqual(1);
    expect(value(families, "process_resident_memory_bytes")).toBeGreaterThan(1_000_000);
    ws.close();
  });

  test("an admin API key works too; each server has its own registry (the second counts nothing of the first)", async () => {
    const res = await scrape({ authorization: `Bearer ${await apiKey("admin")}` });
    expect(res.status).toBe(200);
    const other = parsePrometheusTextFormat(await (await second.api("/metrics")).text());
    expect(value(other, "sentpulse_telemetry_samples_stored_total")).toBe(0);
    expect(value(other, "sentpulse_agents_connected")).toBe(0);
  });
});
