import { hostname } from "node:os";
import { type Database, openDatabase } from "../db/index.ts";
import { dueEscalations } from "./alerts/handling.ts";
import { AgentHub } from "./agents/hub.ts";
import { Automation } from "./automation/service.ts";
import { rotateDueSecrets } from "./agents/rotation.ts";
import { deleteExpiredSessions } from "./auth/store.ts";
import { CommandDispatcher } from "./commands/service.ts";
import { expireCommands } from "./commands/store.ts";
import type { Config } from "./config.ts";
import type { Services } from "./context.ts";
import { LiveHub } from "./live/hub.ts";
import { log } from "./log.ts";
import { SecretBox, loadSecretKey } from "./notifications/crypto.ts";
import { Notifier } from "./notifications/service.ts";
import { RuleEvaluator } from "./rules/evaluator.ts";
import { CheckRunner } from "./rules/checks.ts";
import { Scheduler } from "./schedules/scheduler.ts";
import { StatusEngine } from "./status/engine.ts";
import { registerNode, releaseNode } from "./status/store.ts";
import { Ingestor } from "./telemetry/ingest.ts";
import { LATE_AFTER_MS, telemetryJobs } from "./telemetry/store.ts";
import { TerminalHub } from "./terminal/sessions.ts";

export interface Running extends Services {
  db: Database;
  /** Stops background work and per-socket bookkeeping before the HTTP server closes its sockets. */
  beginShutdown(): void;
  /** Stops jobs, closes agent sockets, writes queued telemetry, releases this node, closes the database. */
  shutdown(): Promise<void>;
}

/** Opens the database, wires the hubs, ingest and status engine, and starts the background jobs. */
export async function createServices(config: Config): Promise<Running> {
  const db = await openDatabase({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    allowTimescale: config.allowTimescale,
    onWarning: (message) => log("warn", message),
  });
  const nodeId = Bun.randomUUIDv7();
  await registerNode(db.sql, nodeId, hostname());
  const agents = new AgentHub(() => ({
    telemetryIntervalS: config.telemetryIntervalS,
    beaconIntervalS: config.beaconIntervalS,
  }));
  const live = new LiveHub((deviceId, watched) => agents.setLive(deviceId, watched));
  const jobs = telemetryJobs(db.sql, db.engine);
  const secrets = new SecretBox(loadSecretKey(config.secretKey, config.dataDir));
  const notifier = new Notifier(db.sql, secrets, config.notifyRetryBaseS);
  const rules = new RuleEvaluator(db.sql, live, async (e) => {
    await notifier.notify(e.organizationId, e.channelIds, e.alertId, e.event, e.message);
    if (e.event === "alert.flapping" || e.event === "alert.stable") return; // notices: no workflows
    await services.automation.handle({
      organizationId: e.organizationId,
      deviceId: String(e.message.alert.deviceId),
      event: e.event,
      alertId: e.alertId,
      alertType: String(e.message.alert.type),
      summary: e.message.subject,
    });
  });
  await rules.start();
  const ingest = new Ingestor(db.sql, {
    lateAfterMs: db.engine === "native" ? LATE_AFTER_MS : undefined,
    onStored(samples) {
      for (const { deviceId, organizationId, sample, summary } of samples) {
        if (!live.isWatched(deviceId)) continue;
        live.publish(organizationId, {
          type: "device.telemetry",
          deviceId,
          point: {
            time: sample.time,
            cpuPercent: sample.cpuPercent,
            memoryPercent: summary.memoryPercent,
            diskPercent: summary.diskPercent,
            swapPercent: summary.swapPercent,
            load1: sample.load[0],
            networkRxBps: summary.networkRxBps,
            networkTxBps: summary.networkTxBps,
          },
        });
      }
      rules.submit(samples);
    },
  });
  const status = new StatusEngine(
    db.sql,
    nodeId,
    {
      onlineWindowS: config.onlineWindowS,
      offlineAfterS: config.offlineAfterS,
      nodeStaleS: 15,
    },
    live,
    2000,
    (c) => {
      if (c.status !== "offline" && c.previous !== "offline") return;
      rules.submitStatus({ organizationId: c.organizationId, deviceId: c.id, offline: c.status === "offline", at: Date.now() });
      void services.automation.handle({
        organizationId: c.organizationId,
        deviceId: c.id,
        event: c.status === "offline" ? "device.offline" : "device.online",
        summary: `${c.hostname} is ${c.status === "offline" ? "offline" : "back"}`,
      });
    },
  );
  const services = {
    config,
    sql: db.sql,
    engine: db.engine,
    nodeId,
    live,
    agents,
    ingest,
    status,
    rules,
    notifier,
    secrets,
  } as Services;
  services.commands = new CommandDispatcher(services);
  services.terminals = new TerminalHub(services, config.terminalIdleS);
  services.scheduler = new Scheduler(services, config.schedulerIntervalMs);
  services.checks = new CheckRunner(services, config.schedulerIntervalMs);
  services.automation = new Automation(services);

  const every = (ms: number, name: string, fn: () => Promise<unknown>) => {
    let busy = false;
    const run = async () => {
      if (busy) return;
      busy = true;
      try {
        await fn();
      } catch (err) {
        log("error", `${name} failed`, {
          error: err instanceof Error ? err.message : String(err),
        });
      } finally {
        busy = false;
      }
    };
    void run();
    return setInterval(run, ms);
  };
  await jobs.run();
  status.start();
  notifier.start();
  services.scheduler.start();
  services.checks.start();
  const timers = [
    every(jobs.intervalMs, "telemetry maintenance", () => jobs.run()),
    every(10 * 60_000, "secret rotation", () => rotateDueSecrets(services)),
    every(60 * 60_000, "session cleanup", () => deleteExpiredSessions(db.sql)),
    every(60_000, "command expiry", () => expireCommands(db.sql)),
    every(60_000, "alert rule reload", () => rules.reloadRules()),
    every(5_000, "offline rules", () => rules.sweepOffline()),
    every(30_000, "alert escalation", async () => {
      for (const a of await dueEscalations(db.sql)) {
        await notifier.notify(a.organizationId, a.channelIds, a.id, "alert.escalated", {
          subject: `[escalated] ${a.message}`,
          text: `Still unacknowledged: ${a.message} (${a.hostname})`,
        });
      }
    }),
  ];

  function beginShutdown() {
    for (const t of timers) clearInterval(t);
    status.stop();
    notifier.stop();
    services.scheduler.stop();
    services.checks.stop();
    services.terminals.stop();
    agents.closeAll(1012, "server restarting");
  }

  return {
    ...services,
    db,
    beginShutdown,
    async shutdown() {
      beginShutdown();
      await ingest.drain();
      await releaseNode(db.sql, nodeId).catch((err) => log("warn", "could not release node", { error: String(err) }));
      await db.close();
    },
  };
}
