import type { Engine, Sql } from "../db/index.ts";
import type { Arrivals } from "./agents/arrivals.ts";
import type { AgentHub } from "./agents/hub.ts";
import type { CommandDispatcher } from "./commands/service.ts";
import type { Config } from "./config.ts";
import type { EventBus } from "./events/bus.ts";
import type { LiveHub } from "./live/hub.ts";
import type { SecretBox } from "./notifications/crypto.ts";
import type { Notifier } from "./notifications/service.ts";
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
  rules: RuleEvaluator;
  notifier: Notifier;
  secrets: SecretBox;
}
