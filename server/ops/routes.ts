import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { type } from "arktype";
import { Elysia } from "elysia";
import { migrationsApplied } from "../../db/migrate.ts";
import type { Services } from "../context.ts";
import { installPs1, installSh } from "../enrollment/install-scripts.ts";
import { authPlugin } from "../auth/plugin.ts";
import { NotFound } from "../errors.ts";
import { loopDelay } from "../lib/loop-delay.ts";
import { Ok, fileResponses } from "../lib/schemas.ts";
import { AGENT_TARGETS, AgentDownloads, parseRange, SUFFIX } from "./downloads.ts";
import { staticFile } from "./static.ts";

const Readiness = type({
  ok: "boolean",
  database: "boolean",
  migrations: "boolean",
  engine: "'native' | 'timescale'",
  agentsConnected: "number",
  /** Only on a node of a cluster (SENTPULSE_NATS_URL set). */
  "nats?": { node: "string", connected: "boolean", server: "string | null", nodes: "number", duties: "string[]" },
});
const Summary = type({ count: "number", meanMs: "number", p50Ms: "number", p99Ms: "number", maxMs: "number" });
const NodeMetrics = type({
  agentsConnected: "number",
  ingest: "Record<string, number>",
  /** From a telemetry frame's arrival to its acknowledgement. */
  telemetryAckLatency: Summary,
  /** One ingest flush, from preparing its rows to its commit. */
  ingestFlushLatency: Summary,
  /** How late the event loop ran a timer due every 20 ms (this process). */
  eventLoopDelay: Summary,
  process: { rssBytes: "number", uptimeSeconds: "number" },
});

/** Health, readiness, agent binaries and installers, and the web app's static files. */
export function opsRoutes(s: Pick<Services, "agents" | "cluster" | "config" | "engine" | "ingest" | "nodeId" | "sql">) {
  // a cluster node without NATS cannot route to agents on other nodes: not ready for traffic
  const nats = () =>
    s.cluster && {
      node: s.nodeId,
      connected: s.cluster.connected(),
      server: s.cluster.server(),
      nodes: s.cluster.nodes(),
      duties: s.cluster.duties(),
    };
  const webDir = resolve(s.config.webDistDir);
  const downloads = new AgentDownloads(resolve(s.config.agentDistDir));
  return new Elysia()
    .get("/healthz", () => ({ ok: true as const }), {
      response: { 200: Ok },
      detail: { summary: "The process is up", tags: ["ops"] },
    })
    .get(
      "/readyz",
      async ({ set }) => {
        const cluster = nats();
        try {
          const migrated = await migrationsApplied(s.sql);
          const ready = migrated && (cluster?.connected ?? true);
          if (!ready) set.status = 503;
          return {
            ok: ready,
            database: true,
            migrations: migrated,
            engine: s.engine,
            agentsConnected: s.agents.size,
            ...(cluster ? { nats: cluster } : {}),
          };
        } catch {
          set.status = 503;
          return {
            ok: false,
            database: false,
            migrations: false,
            engine: s.engine,
            agentsConnected: s.agents.size,
            ...(cluster ? { nats: cluster } : {}),
          };
        }
      },
      {
        response: { 200: Readiness, 503: Readiness },
        detail: {
          summary: "Database reachable and migrations applied (and, on a node of a cluster, NATS connected)",
          tags: ["ops"],
        },
      },
    )
    .use(authPlugin(s.sql))
    .get(
      "/api/v1/metrics",
      () => ({
        agentsConnected: s.agents.size,
        ingest: s.ingest.stats,
        telemetryAckLatency: s.agents.telemetryLatency.summary(),
        ingestFlushLatency: s.ingest.flushLatency.summary(),
        eventLoopDelay: loopDelay.summary(),
        process: { rssBytes: process.memoryUsage().rss, uptimeSeconds: Math.round(process.uptime()) },
      }),
      {
        permission: "ops:view",
        response: { 200: NodeMetrics },
        detail: { summary: "Pulse and ingest counters of this server node", tags: ["ops"] },
      },
    )
    .post(
      "/api/v1/metrics/reset",
      () => {
        s.agents.telemetryLatency.reset();
        s.ingest.flushLatency.reset();
        loopDelay.reset();
        return { ok: true as const };
      },
      {
        permission: "ops:view",
        response: { 200: Ok },
        detail: { summary: "Restart the latency histograms: acks and event-loop delay (benchmarks)", tags: ["ops"] },
      },
    )
    .get(
      "/download/agent/SHA256SUMS",
      async ({ set }) => {
        set.headers["content-type"] = "text/plain; charset=utf-8";
        set.headers["cache-control"] = "no-cache";
        return downloads.checksums();
      },
      {
        detail: {
          summary: "SHA-256 of every agent binary this server has, as `sha256sum` prints them (installers check the binary against it)",
          tags: ["ops"],
          responses: fileResponses("sha256sum lines", "text/plain"),
        },
      },
    )
    .get(
      "/download/agent/:target",
      async ({ params, query, request }) => {
        const compression = query.compression ?? "none";
        const file = await downloads.file(params.target, compression);
        if (!file)
          throw new NotFound(
            "AGENT_NOT_BUILT",
            compression !== "none" && compression !== "gzip"
              ? `no ${compression} copy of the ${params.target} agent on this server (scripts/build-agents makes it); ask for gzip`
              : `no agent for ${params.target} on this server; run scripts/build-agents`,
          );
        const etag = `"${file.sha256}"`;
        const name = `sentpulse-agent${params.target.startsWith("windows") ? ".exe" : ""}${SUFFIX[compression]}`;
        const headers: Record<string, string> = {
          "content-type": file.type,
          "content-disposition": `attachment; filename="${name}"`,
          "accept-ranges": "bytes",
          etag,
          // revalidated every time (a rebuilt agent has another ETag), never stale
          "cache-control": "no-cache",
          "x-sentpulse-sha256": (await downloads.binarySha256(params.target)) ?? "",
        };
        if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
        // If-Range: a range only while the file is still the one the client started with
        const ifRange = request.headers.get("if-range");
        const range = ifRange && ifRange !== etag ? null : parseRange(request.headers.get("range"), file.size);
        if (range === "invalid")
          return new Response(null, { status: 416, headers: { ...headers, "content-range": `bytes */${file.size}` } });
        if (range) {
          return new Response(Bun.file(file.path).slice(range.start, range.end + 1), {
            status: 206,
            headers: {
              ...headers,
              "content-range": `bytes ${range.start}-${range.end}/${file.size}`,
              "content-length": String(range.end - range.start + 1),
            },
          });
        }
        return new Response(Bun.file(file.path), { headers: { ...headers, "content-length": String(file.size) } });
      },
      {
        params: type({ target: type.enumerated(...AGENT_TARGETS) }),
        query: type({ "compression?": "'none' | 'gzip' | 'xz' | 'txz' | 'bcj2'" }),
        detail: {
          summary:
            "Compiled agent binary, as built or compressed (gzip, xz, txz: alone in an xz-compressed tar, or bcj2: 7-Zip's x86 filter with LZMA, for the Windows installer); resumable (Range, If-Range) and cacheable (strong ETag); `x-sentpulse-sha256` is the binary's own checksum",
          tags: ["ops"],
          responses: fileResponses("The agent executable", "application/octet-stream", 404, 422),
        },
      },
    )
    .get(
      "/install.sh",
      ({ set }) => {
        set.headers["content-type"] = "text/x-shellscript; charset=utf-8";
        return installSh(s.config.publicUrl);
      },
      {
        detail: {
          summary: "Installer for Linux and macOS",
          tags: ["ops"],
          responses: fileResponses("A POSIX shell script", "text/x-shellscript"),
        },
      },
    )
    .get(
      "/install.ps1",
      ({ set }) => {
        set.headers["content-type"] = "text/plain; charset=utf-8";
        return installPs1(s.config.publicUrl);
      },
      { detail: { summary: "Installer for Windows", tags: ["ops"], responses: fileResponses("A PowerShell script", "text/plain") } },
    )
    .get("/*", ({ params, set }) => {
      const rel = params["*"] ?? "";
      if (rel.startsWith("api/")) throw new NotFound("ROUTE_NOT_FOUND", `no route /${rel}`);
      const file = staticFile(webDir, rel);
      if (file) return Bun.file(file);
      const index = join(webDir, "index.html");
      if (existsSync(index)) return Bun.file(index);
      set.headers["content-type"] = "text/html; charset=utf-8";
      return `<!doctype html><title>SENTpulse</title><p>SENTpulse server is running. The dashboard is not built yet: run <code>scripts/start</code>. API: <a href="/api/v1/openapi">/api/v1/openapi</a></p>`;
    });
}
