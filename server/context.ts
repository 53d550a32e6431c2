import type { Engine, Sql } from "../db/index.ts";
import type { Arrivals } from "./agents/arrivals.ts";
import type { AgentHub } from "./agents/hub.ts";
import type { CommandDispatcher } from "./commands/service.ts";
import type { ClusterView } from "./cluster/types.ts";
import type { Config } from "./config.ts";
import type { EventBus } from "./events/bus.ts";
import type { FileTransfers } from "./files/transfers.ts";
import type { LiveHub } from "./live/hub.ts";
import type { SecretBox } from "./notifications/crypto.ts";
import type { Notifier } from "./notifications/service.ts";
import type { PatchScheduler } from "./patches/scheduler.ts";
import type { Patches } from "./patches/service.ts";
import type { RuleEvaluator } from "./rules/evaluator.ts";
import type { StatusEngine } from "./status/engine.ts";
import type { TerminalHub } from "./terminal/sessions.ts";
import type { Ingestor } from "./telemetry/ingest.ts";

/** What the routes are given (built once in `createServices`, services.ts); jobs get only what they use. */
export interface Services {
  config: Config;
  sql: Sql;
  engine: Engine;
  /** This server process's id in `server_nodes`. */
  nodeId: string;
  /** Typed events between capabilities (see events/bus.ts). */
  bus: EventBus;
  live: LiveHub;
  agents: AgentHub;
  /** First-contact work of agent sockets (held, hello facts, released), batched off the telemetry path. */
  arrivals: Arrivals;
  ingest: Ingestor;
  status: StatusEngine;
  commands: CommandDispatcher;
  terminals: TerminalHub;
  /** File transfers between the staging area and devices (the file explorer). */
  files: FileTransfers;
  rules: RuleEvaluator;
  notifier: Notifier;
  secrets: SecretBox;
  /** This node's view of its cluster (`SENTPULSE_NATS_URL` set); undefined in one process. */
  cluster?: ClusterView;
  /** Patch scans and installs (server/patches). */
  patches: Patches;
  /** Maintenance windows, scheduled scans and the compliance history (server/patches). */
  patchScheduler: PatchScheduler;
}
