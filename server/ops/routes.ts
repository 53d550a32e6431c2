import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { type } from "arktype";
import { Elysia } from "elysia";
import { migrationsApplied } from "../../db/migrate.ts";
import type { Services } from "../context.ts";
import { installPs1, installSh } from "../enrollment/install-scripts.ts";
import { authPlugin } from "../auth/plugin.ts";
import { NotFound } from "../errors.ts";
import { Ok, fileResponses } from "../lib/schemas.ts";
import { staticFile } from "./static.ts";

const AGENT_TARGETS = ["linux-x64", "linux-arm64", "windows-x64", "darwin-x64", "darwin-arm64"] as const;

const Readiness = type({
  ok: "boolean",
  database: "boolean",
  migrations: "boolean",
  engine: "'native' | 'timescale'",
  agentsConnected: "number",
});
const NodeMetrics = type({
  agentsConnected: "number",
  ingest: "Record<string, number>",
  telemetryAckLatency: { count: "number", meanMs: "number", p50Ms: "number", p99Ms: "number" },
  process: { rssBytes: "number", uptimeSeconds: "number" },
});

/** Health, readiness, agent binaries and installers, and the web app's static files. */
export function opsRoutes(s: Pick<Services, "agents" | "config" | "engine" | "ingest" | "sql">) {
  const webDir = resolve(s.config.webDistDir);
  const agentDir = resolve(s.config.agentDistDir);
  return new Elysia()
    .get("/healthz", () => ({ ok: true as const }), {
      response: { 200: Ok },
      detail: { summary: "The process is up", tags: ["ops"] },
    })
    .get(
      "/readyz",
      async ({ set }) => {
        try {
          const ready = await migrationsApplied(s.sql);
          if (!ready) set.status = 503;
          return {
            ok: ready,
            database: true,
            migrations: ready,
            engine: s.engine,
            agentsConnected: s.agents.size,
          };
        } catch {
          set.status = 503;
          return {
            ok: false,
            database: false,
            migrations: false,
            engine: s.engine,
            agentsConnected: s.agents.size,
          };
        }
      },
      {
        response: { 200: Readiness, 503: Readiness },
        detail: {
          summary: "Database reachable and migrations applied",
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
        return { ok: true as const };
      },
      { permission: "ops:view", response: { 200: Ok }, detail: { summary: "Restart the latency histogram (benchmarks)", tags: ["ops"] } },
    )
    .get(
      "/download/agent/:target",
      ({ params, set }) => {
        const file = join(agentDir, `sentpulse-agent-${params.target}${params.target.startsWith("windows") ? ".exe" : ""}`);
        if (!existsSync(file))
          throw new NotFound("AGENT_NOT_BUILT", `no agent for ${params.target} on this server; run scripts/build-agents`);
        set.headers["content-disposition"] = `attachment; filename="sentpulse-agent${params.target.startsWith("windows") ? ".exe" : ""}"`;
        return Bun.file(file);
      },
      {
        params: type({ target: type.enumerated(...AGENT_TARGETS) }),
        detail: {
          summary: "Compiled agent binary",
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
