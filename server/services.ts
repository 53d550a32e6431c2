import { hostname } from "node:os";
import { type Database, openDatabase } from "../db/index.ts";
import { dueEscalations } from "./alerts/store.ts";
import { SocketAdmission } from "./agents/admission.ts";
import { Arrivals } from "./agents/arrivals.ts";
import { AgentHub } from "./agents/hub.ts";
import { authReactions } from "./auth/reactions.ts";
import { automationReactions } from "./automation/reactions.ts";
import { Automation } from "./automation/service.ts";
import { rotateDueSecrets, rotateSecret } from "./agents/rotation.ts";
import { recentlySeenDevices } from "./agents/store.ts";
import { applyAuditRetention } from "./audit/retention.ts";
import { deleteExpiredSessions } from "./auth/store.ts";
import { CommandDispatcher } from "./commands/service.ts";
import { expireCommands } from "./commands/store.ts";
import type { Duty } from "./cluster/types.ts";
import type { Config } from "./config.ts";
import type { Services } from "./context.ts";
import { LocalBus } from "./events/bus.ts";
import { FileTransfers } from "./files/transfers.ts";
import { GroupEngine } from "./groups/engine.ts";
import { groupReactions } from "./groups/reactions.ts";
import { HealthWatch } from "./toolbox/health-watch.ts";
import { toolboxReactions } from "./toolbox/reactions.ts";
import { patchReactions } from "./patches/reactions.ts";
import { PatchScheduler } from "./patches/scheduler.ts";
import { Patches } from "./patches/service.ts";
import { LiveHub } from "./live/hub.ts";
import { liveReactions } from "./live/reactions.ts";
import { raiseFileLimit } from "./lib/rlimit.ts";
import { log } from "./log.ts";
import { SecretBox, loadSecretKey } from "./notifications/crypto.ts";
import { notificationReactions } from "./notifications/reactions.ts";
import { Notifier } from "./notifications/service.ts";
import { RuleEvaluator } from "./rules/evaluator.ts";
import { watchLoopDelay } from "./lib/loop-delay.ts";
import { CheckRunner } from "./rules/checks.ts";
import { ruleReactions } from "./rules/reactions.ts";
import { Scheduler } from "./schedules/scheduler.ts";
import { StatusEngine } from "./status/engine.ts";
import { registerNode, releaseNode } from "./status/store.ts";
import { Ingestor } from "./telemetry/ingest.ts";
import { LATE_AFTER_MS, telemetryJobs } from "./telemetry/store.ts";
import { TerminalHub } from "./terminal/sessions.ts";
import { fileReactions } from "./files/reactions.ts";

export interface Running extends Services {
  db: Database;
  /** Stops background work and closes agent sockets (1012, naming the reconnect window) before the HTTP server closes the rest. */
  beginShutdown(): void;
  /**
   * After the HTTP server stopped: waits until queued telemetry, socket arrivals, status batches, rule
   * evaluation, reactions, notifications and jobs are all written (looping while one starts another),
   * releases this node, then closes the database. Nothing runs against a closed pool.
   */
  shutdown(): Promise<void>;
}

/**
 * The composition: opens the database, builds every service with exactly what it uses, connects
 * the reactions across capabilities through one event bus, and starts the background jobs.
 */
export async function createServices(config: Config): Promise<Running> {
  const db = await openDatabase({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    allowTimescale: config.allowTimescale,
    onWarning: (message) => log("warn", message),
  });
  const nodeId = Bun.randomUUIDv7();
  await registerNode(db.sql, nodeId, hostname());
  // a cluster only when asked for: without SENTPULSE_NATS_URL no NATS code is even loaded
  const cluster = config.natsUrl
    ? await (await import("./cluster/cluster.ts")).joinCluster({ url: config.natsUrl, nodeId }).catch(async (err) => {
        await releaseNode(db.sql, nodeId).catch(() => {});
        await db.close();
        throw err;
      })
    : undefined;
  if (cluster) log("info", "joined the cluster", { node: nodeId, nats: cluster.server() });
  /** Whether this node runs a once-per-cluster duty now (always, in one process). */
  const mine = (duty: Duty) => cluster?.holds(duty) ?? true;
  const bus = cluster?.bus ?? new LocalBus();
  const agents = new AgentHub(() => ({
    telemetryIntervalS: config.telemetryIntervalS,
    beaconIntervalS: config.beaconIntervalS,
  }));
  const files = raiseFileLimit();
  if (files) {
    agents.admission = new SocketAdmission(files.soft, () => agents.size);
    const capacity = (agents.admission as SocketAdmission).capacity;
    log("info", "open-file limit", { soft: files.soft, hard: files.hard, softAtStart: files.before, agentSocketsAtMost: capacity });
    if (capacity < 50_000)
      log(
        "warn",
        `open-file limit ${files.soft} (hard ${files.hard}): this node holds at most ~${capacity} agent sockets; raise LimitNOFILE / ulimit -n for more`,
      );
  }
  // in a cluster the watch goes to every node (the agent may be on another) before live mode is set
  let watchChanged = (deviceId: string, watched: boolean) => agents.setLive(deviceId, watched);
  const live = new LiveHub((deviceId, watched) => watchChanged(deviceId, watched));
  const jobs = telemetryJobs(db.sql, db.engine);
  const secrets = new SecretBox(loadSecretKey(config.secretKey, config.dataDir));
  const notifier = new Notifier(db.sql, secrets, config.notifyRetryBaseS);
  const rules = new RuleEvaluator(db.sql, live, bus);
  await rules.start();
  const status = new StatusEngine(
    db.sql,
    nodeId,
    { onlineWindowS: config.onlineWindowS, offlineAfterS: config.offlineAfterS, nodeStaleS: 15 },
    live,
    bus,
    undefined,
    undefined,
    // after a restart the fleet is given its reconnect window (and the time this process took to start) before it counts as gone
    () => agents.reconnectWindowS() + 15,
  );
  const ingest = new Ingestor(db.sql, {
    lateAfterMs: db.engine === "native" ? LATE_AFTER_MS : undefined,
    bus,
    // a device held here goes online in the flush that stores its first recent sample
    status: { nodeId, onlineWindowS: config.onlineWindowS, announce: (changes) => status.announceLater(changes) },
  });
  const commands = new CommandDispatcher(db.sql, agents, live, bus);
  const arrivals = new Arrivals({
    sql: db.sql,
    nodeId,
    bus,
    agents,
    commands,
    status,
    rotate: (deviceId) => void rotateSecret({ sql: db.sql, agents }, deviceId),
  });
  const terminals = new TerminalHub(db.sql, agents, config.terminalIdleS);
  const fileTransfers = new FileTransfers(db.sql, agents, config.dataDir, {
    deviceRateBps: config.filesDeviceRateBps,
    quotaBytes: config.filesStagingQuotaBytes,
    nodeId,
  });
  const automation = new Automation(db.sql, notifier, commands);
  const scheduler = new Scheduler(db.sql, commands, bus, config.schedulerIntervalMs);
  const checks = new CheckRunner(db.sql, agents, commands, config.schedulerIntervalMs);
  const patches = new Patches(db.sql, agents, commands, bus);
  const patchScheduler = new PatchScheduler(db.sql, agents, patches, config.schedulerIntervalMs, bus);
  if (cluster) {
    const presence = cluster.attach({ agents, live, terminals, commands });
    watchChanged = (deviceId, watched) => presence.localWatch(deviceId, watched);
    status.duty = () => mine("status");
    scheduler.duty = () => mine("schedules");
    notifier.duty = () => mine("notifications");
  }

  // who reacts to what (each capability's own file says it; the list here is the whole picture)
  authReactions(bus);
  liveReactions(bus, live);
  ruleReactions(bus, rules);
  notificationReactions(bus, notifier);
  automationReactions(bus, automation);
  groupReactions(bus, new GroupEngine(db.sql, bus));
  toolboxReactions(bus, db.sql, agents);
  patchReactions(bus, db.sql, patches);
  fileReactions(bus, fileTransfers);
  // the health alert rules' values: asked of the agents this node holds
  const healthWatch = new HealthWatch(db.sql, agents, (h) => rules.submitHealth(h));

  const services: Services = {
    config,
    sql: db.sql,
    engine: db.engine,
    nodeId,
    bus,
    live,
    agents,
    arrivals,
    ingest,
    status,
    commands,
    terminals,
    files: fileTransfers,
    patches,
    patchScheduler,
    rules,
    notifier,
    secrets,
    cluster,
  };

  /** Periodic jobs in flight, awaited at shutdown. */
  const jobsRunning = new Set<Promise<void>>();
  /** Runs `fn` now and every `ms` (skipped while the last run is busy, or while another node holds its `duty`). */
  const every = (ms: number, name: string, fn: () => Promise<unknown>, duty?: Duty) => {
    let busy = false;
    const run = () => {
      if (busy || (duty && !mine(duty))) return;
      busy = true;
      const p = (async () => {
        try {
          await fn();
        } catch (err) {
          log("error", `${name} failed`, {
            error: err instanceof Error ? err.message : String(err),
          });
        } finally {
          busy = false;
        }
      })();
      jobsRunning.add(p);
      void p.finally(() => jobsRunning.delete(p));
    };
    run();
    return setInterval(run, ms);
  };
  await jobs.run();
  agents.fleetSize = await recentlySeenDevices(db.sql);
  status.start();
  notifier.start();
  scheduler.start();
  checks.start();
  patchScheduler.start();
  await fileTransfers.start();
  const timers = [
    every(jobs.intervalMs, "telemetry maintenance", () => jobs.run(), "maintenance"),
    every(10 * 60_000, "secret rotation", () => rotateDueSecrets({ sql: db.sql, agents, nodeId, rotationS: config.secretRotationS })),
    every(60 * 60_000, "session cleanup", () => deleteExpiredSessions(db.sql), "maintenance"),
    every(24 * 60 * 60_000, "audit retention", () => applyAuditRetention(db.sql, config.auditRetentionDays), "maintenance"),
    every(60_000, "command expiry", () => expireCommands(db.sql), "maintenance"),
    every(60 * 60_000, "file staging cleanup", () => fileTransfers.cleanup()),
    every(60_000, "fleet size", async () => {
      agents.fleetSize = await recentlySeenDevices(db.sql);
    }),
    every(60_000, "alert rule reload", () => rules.reloadRules()),
    every(5_000, "offline rules", () => rules.sweepOffline()),
    every(60_000, "toolbox health watch", () => healthWatch.tick()),
    every(
      30_000,
      "alert escalation",
      async () => {
        for (const a of await dueEscalations(db.sql)) {
          await notifier.notify(a.organizationId, a.channelIds, a.id, "alert.escalated", {
            subject: `[escalated] ${a.message}`,
            text: `Still unacknowledged: ${a.message} (${a.hostname})`,
          });
        }
      },
      "escalations",
    ),
  ];

  let shuttingDown = false;
  let filesStopped: Promise<void> | undefined;
  const stopLoopWatch = watchLoopDelay();
  function beginShutdown() {
    if (shuttingDown) return;
    shuttingDown = true;
    stopLoopWatch();
    for (const t of timers) clearInterval(t);
    status.stop();
    notifier.stop();
    scheduler.stop();
    checks.stop();
    patchScheduler.stop();
    terminals.stop();
    filesStopped = fileTransfers.stop();
    agents.closeAll();
  }

  /** One pass over everything that may still write; true when it found nothing running or queued. */
  async function quiet(): Promise<boolean> {
    const rulesBefore = rules.idle();
    const busy = ingest.queued > 0 || jobsRunning.size > 0;
    await ingest.drain();
    await arrivals.settled();
    await status.idle();
    await rulesBefore;
    await bus.settled();
    await notifier.idle();
    await patchScheduler.idle();
    await Promise.all(jobsRunning);
    return !busy && rules.idle() === rulesBefore && ingest.queued === 0;
  }

  return {
    ...services,
    db,
    beginShutdown,
    async shutdown() {
      beginShutdown();
      // reactions start reactions (stored telemetry → rules → alerts → notifications): settle until a pass finds nothing
      await filesStopped;
      for (let pass = 0; pass < 20 && !(await quiet()); pass++);
      // duties given back and the other nodes told before the node's row goes
      await cluster?.leave().catch((err) => log("warn", "could not leave the cluster cleanly", { error: String(err) }));
      await releaseNode(db.sql, nodeId).catch((err) => log("warn", "could not release node", { error: String(err) }));
      await db.close();
      log("info", "shutdown complete", { node: nodeId });
    },
  };
}
