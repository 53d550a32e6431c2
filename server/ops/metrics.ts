import { timingSafeEqual } from "node:crypto";
import { Elysia } from "elysia";
import client from "prom-client";
import { declares, resolvePrincipal } from "../auth/plugin.ts";
import { can } from "../auth/permissions.ts";
import type { Services } from "../context.ts";
import { Forbidden, Unauthorized } from "../errors.ts";
import { sha256 } from "../lib/crypto.ts";
import type { Histogram } from "../lib/histogram.ts";
import { loopDelay } from "../lib/loop-delay.ts";
import { log } from "../log.ts";
import { opsCounts } from "./store.ts";
import { DUTIES, type ClusterView } from "../cluster/types.ts";
import { SIGNED_IN, fileResponses } from "../lib/schemas.ts";

/** Every 6th bucket of the server's histograms: bounds about ×2 apart, 0.1 ms to 41 s. */
const BUCKET_STEP = 6;
const COMMAND_STATES = ["queued", "sent", "running"] as const;

/**
 * A Prometheus histogram read at scrape time from one of the server's fixed-bucket histograms
 * (ms), so the hot path keeps doing only what it already does: one bucket increment. The
 * registry reads a metric through `get()` (prom-client's own histogram does the same).
 */
class HistogramView {
  readonly type = "histogram";
  readonly aggregator = "sum";
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly source: Histogram,
  ) {}

  async get() {
    const h = this.source;
    const bucket = `${this.name}_bucket`;
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = h
      .cumulative(BUCKET_STEP)
      .map((b) => ({ metricName: bucket, labels: { le: Number((b.boundMs / 1000).toPrecision(6)) }, value: b.count }));
    values.push(
      { metricName: bucket, labels: { le: "+Inf" }, value: h.count },
      { metricName: `${this.name}_sum`, labels: {}, value: h.sum / 1000 },
      { metricName: `${this.name}_count`, labels: {}, value: h.count },
    );
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {}
}

/** A counter that reports a running total kept elsewhere (a plain field incremented on the hot path). */
function totalCounter(registry: client.Registry, name: string, help: string, read: () => number) {
  return new client.Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/**
 * This node's metrics in one registry per server (tests run several servers in one process):
 * the process (prom-client's defaults: CPU, memory, event-loop lag), agents and telemetry
 * ingest read from their counters at scrape time, and database-side counts read by `scrape()`.
 */
function createMetrics(s: Pick<Services, "agents" | "cluster" | "config" | "ingest" | "sql">) {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  if (s.cluster) clusterMetrics(registry, s.cluster);
  new client.Gauge({
    name: "sentpulse_agents_connected",
    help: "Agent sockets connected to this server node.",
    registers: [registry],
    collect() {
      this.set(s.agents.size);
    },
  });
  const stats = s.ingest.stats;
  new client.Counter({
    name: "sentpulse_telemetry_batches_total",
    help: "Telemetry batches handled by the ingest: stored, or duplicate (a replay, acknowledged and not stored).",
    labelNames: ["result"],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ result: "stored" }, stats.stored);
      this.inc({ result: "duplicate" }, stats.duplicates);
    },
  });
  totalCounter(registry, "sentpulse_telemetry_samples_stored_total", "Telemetry samples (rows) stored.", () => stats.samples);
  totalCounter(
    registry,
    "sentpulse_telemetry_samples_dropped_total",
    "Telemetry samples dropped for being older than the 7-day retention or too far in the future.",
    () => stats.dropped,
  );
  totalCounter(
    registry,
    "sentpulse_telemetry_batches_requeued_total",
    "Telemetry batches put back in the ingest queue because another transaction held their device's row (a status change, a socket being recorded).",
    () => stats.busy,
  );
  new client.Gauge({
    name: "sentpulse_telemetry_ingest_queued_samples",
    help: "Telemetry samples waiting for a flush.",
    registers: [registry],
    collect() {
      this.set(s.ingest.queued);
    },
  });
  for (const view of [
    new HistogramView(
      "sentpulse_telemetry_flush_duration_seconds",
      "Ingest flush duration: COPY text prepared, rows copied, sequence marks moved, committed.",
      s.ingest.flushLatency,
    ),
    new HistogramView(
      "sentpulse_telemetry_ack_duration_seconds",
      "Time from a telemetry frame's arrival on an agent socket to its ack after commit (reset by POST /api/v1/metrics/reset).",
      s.agents.telemetryLatency,
    ),
    new HistogramView(
      "sentpulse_event_loop_delay_seconds",
      "How late the server's event loop ran a timer due every 20 ms: what every frame and request waited before its code ran (reset by POST /api/v1/metrics/reset).",
      loopDelay,
    ),
  ])
    registry.registerMetric(view as unknown as client.Metric);
  new client.Gauge({
    name: "sentpulse_db_pool_max_connections",
    help: "Most connections this node's pool opens (postgres.js reports no busy/idle split; see sentpulse_db_connections).",
    registers: [registry],
    collect() {
      this.set(s.sql.options.max);
    },
  });
  const db = {
    up: new client.Gauge({ name: "sentpulse_db_up", help: "1 when the scrape's database queries succeeded.", registers: [registry] }),
    seconds: new client.Gauge({
      name: "sentpulse_db_scrape_duration_seconds",
      help: "Time the scrape's database queries took (one round trip).",
      registers: [registry],
    }),
    connections: new client.Gauge({
      name: "sentpulse_db_connections",
      help: "Connections of SENTpulse server nodes to this database by state, from pg_stat_activity (all nodes).",
      labelNames: ["state"],
      registers: [registry],
    }),
    commands: new client.Gauge({
      name: "sentpulse_commands",
      help: "Unfinished commands by state (queued, sent, running), all organizations.",
      labelNames: ["state"],
      registers: [registry],
    }),
    outbox: new client.Gauge({
      name: "sentpulse_notification_outbox_pending",
      help: "Notifications waiting for delivery or a retry.",
      registers: [registry],
    }),
    dead: new client.Gauge({
      name: "sentpulse_notification_dead_letters",
      help: "Notifications that failed every retry.",
      registers: [registry],
    }),
  };

  return {
    contentType: registry.contentType,
    /** Reads the database-side counts, then renders every metric in the text exposition format. */
    async scrape(): Promise<string> {
      const t0 = performance.now();
      try {
        const counts = await opsCounts(s.sql);
        db.seconds.set((performance.now() - t0) / 1000);
        db.up.set(1);
        db.connections.reset();
        for (const [state, n] of Object.entries(counts.connections)) db.connections.set({ state }, n);
        for (const state of COMMAND_STATES) db.commands.set({ state }, counts.commands[state] ?? 0);
        db.outbox.set(counts.outboxPending);
        db.dead.set(counts.deadLetters);
      } catch (err) {
        log("warn", "metrics: database counts failed", { error: err instanceof Error ? err.message : String(err) });
        for (const g of [db.seconds, db.connections, db.commands, db.outbox, db.dead]) g.reset();
        db.up.set(0);
      }
      return registry.metrics();
    },
  };
}

/** The bus between cluster nodes: connection, peers, duties, messages and bytes each way. */
function clusterMetrics(registry: client.Registry, cluster: ClusterView) {
  const { stats } = cluster;
  const gauge = (name: string, help: string, read: () => number) =>
    new client.Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge("sentpulse_cluster_nats_connected", "1 while this node is connected to NATS.", () => (cluster.connected() ? 1 : 0));
  gauge("sentpulse_cluster_nodes", "Server nodes this node hears from (itself included).", () => cluster.nodes());
  gauge("sentpulse_cluster_remote_agents", "Agents whose sockets other nodes hold, as this node knows them.", () => cluster.remoteAgents());
  new client.Gauge({
    name: "sentpulse_cluster_duty_held",
    help: "1 for each once-per-cluster duty this node holds the lease of.",
    labelNames: ["duty"],
    registers: [registry],
    collect() {
      this.reset();
      for (const duty of DUTIES) this.set({ duty }, cluster.holds(duty) ? 1 : 0);
    },
  });
  for (const [direction, read] of [
    ["sent", () => stats.sent],
    ["received", () => stats.received],
  ] as const)
    new client.Counter({
      name: `sentpulse_cluster_messages_${direction}_total`,
      help: `Bus messages ${direction === "sent" ? "this node published" : "from other nodes this node applied"}, by kind.`,
      labelNames: ["kind"],
      registers: [registry],
      collect() {
        this.reset();
        for (const [kind, n] of Object.entries(read())) this.inc({ kind }, n);
      },
    });
  totalCounter(registry, "sentpulse_cluster_bytes_sent_total", "Bytes this node published on the bus.", () => stats.bytesSent);
  totalCounter(registry, "sentpulse_cluster_bytes_received_total", "Bytes this node received from the bus.", () => stats.bytesReceived);
  totalCounter(
    registry,
    "sentpulse_cluster_messages_dropped_total",
    "Bus messages not sent (too large, closed) or not readable.",
    () => stats.dropped,
  );
  totalCounter(registry, "sentpulse_cluster_reconnects_total", "Times the NATS connection came back after a loss.", () => stats.reconnects);
  totalCounter(
    registry,
    "sentpulse_cluster_calls_failed_total",
    "Calls to agents on other nodes that got no answer over the bus.",
    () => stats.callsFailed,
  );
}

/** True when `given` is the configured scrape token, compared in constant time (hashes: equal lengths). */
function isScrapeToken(given: string, token: string | undefined): boolean {
  return token !== undefined && timingSafeEqual(sha256(given), sha256(token));
}

/**
 * `GET /metrics` in the Prometheus text format, for `Authorization: Bearer <SENTPULSE_METRICS_TOKEN>`
 * or an admin's API key or session: 401 without credentials, 403 below admin.
 */
export function metricsRoutes(s: Pick<Services, "agents" | "cluster" | "config" | "ingest" | "sql">) {
  const metrics = createMetrics(s);
  return new Elysia().get(
    "/metrics",
    async ({ request, set }) => {
      const authz = request.headers.get("authorization");
      if (!(authz?.startsWith("Bearer ") && isScrapeToken(authz.slice(7).trim(), s.config.metricsToken))) {
        const principal = await resolvePrincipal(s.sql, request.headers);
        if (!principal) throw new Unauthorized();
        if (!can(principal, "ops:view")) throw new Forbidden("FORBIDDEN", "metrics need the ops:view permission or the scrape token");
      }
      set.headers["content-type"] = metrics.contentType;
      return metrics.scrape();
    },
    {
      detail: {
        summary: "Prometheus metrics of this server node (text exposition format)",
        description:
          "`Authorization: Bearer` with the scrape token (SENTPULSE_METRICS_TOKEN) or an API key or session with the ops:view permission (admins and owners).",
        tags: ["ops"],
        security: SIGNED_IN,
        ...declares("ops:view"),
        responses: fileResponses("The metrics", "text/plain", 401, 403),
      },
    },
  );
}
