import type { Engine, Sql } from "../db/index.ts";
import type { AgentHub } from "./agents/hub.ts";
import type { Automation } from "./automation/service.ts";
import type { CommandDispatcher } from "./commands/service.ts";
import type { Config } from "./config.ts";
import type { LiveHub } from "./live/hub.ts";
import type { SecretBox } from "./notifications/crypto.ts";
import type { Notifier } from "./notifications/service.ts";
import type { RuleEvaluator } from "./rules/evaluator.ts";
import type { CheckRunner } from "./rules/checks.ts";
import type { Scheduler } from "./schedules/scheduler.ts";
import type { StatusEngine } from "./status/engine.ts";
import type { TerminalHub } from "./terminal/sessions.ts";
import type { Ingestor } from "./telemetry/ingest.ts";

/** Everything a route or job needs, built once in `createServices`. */
export interface Services {
  config: Config;
  sql: Sql;
  engine: Engine;
  /** This server process's id in `server_nodes`. */
  nodeId: string;
  live: LiveHub;
  agents: AgentHub;
  ingest: Ingestor;
  status: StatusEngine;
  commands: CommandDispatcher;
  terminals: TerminalHub;
  rules: RuleEvaluator;
  notifier: Notifier;
  secrets: SecretBox;
  scheduler: Scheduler;
  /** Sends the checks of script rules. */
  checks: CheckRunner;
  automation: Automation;
}
