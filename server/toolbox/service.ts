import type { Type } from "arktype";
import type { Sql } from "postgres";
import { auditedAction, checkedAnswer } from "../agents/answers.ts";
import type { AgentHub } from "../agents/hub.ts";
import type { Actor } from "../audit/actor.ts";
import { type AppError, Conflict, NotFound } from "../errors.ts";
import type { ToolboxRequest } from "../protocol/toolbox.ts";

/** How long each kind of request may take on the agent, ms. */
const TOOLBOX_DEADLINES: Record<ToolboxRequest["op"], number> = {
  processes: 15_000,
  kill: 15_000,
  services: 45_000,
  service_action: 100_000,
  event_logs: 30_000,
  environment: 15_000,
  wake: 10_000,
  health: 120_000,
};

/** The toolbox's own failure codes of an agent as the API reports them (the shared ones: `agentFailure`). */
function toolboxFailure(code: string, message?: string): AppError | undefined {
  switch (code) {
    case "NO_SUCH_PROCESS":
      return new NotFound("PROCESS_NOT_FOUND", message ?? "no such process on the device");
    case "NO_SUCH_SERVICE":
      return new NotFound("SERVICE_NOT_FOUND", message ?? "no such service on the device");
    case "PROTECTED_PROCESS":
      return new Conflict("PROTECTED_PROCESS", message ?? "the agent, its parents and init cannot be killed from here");
    case "PERMISSION_DENIED":
      return new Conflict("AGENT_PERMISSION_DENIED", message ?? "the agent may not do this on the device");
    case "ACTION_FAILED":
      return new Conflict("SERVICE_ACTION_FAILED", message ?? "the service manager refused the action");
    case "UNSUPPORTED":
      return new Conflict("UNSUPPORTED_ON_DEVICE", message ?? "the device cannot do this");
    default:
      return undefined;
  }
}

/**
 * The endpoint toolbox on the server: asks a connected agent (one `toolbox` call with a deadline
 * through the AgentHub) and checks its answer against the protocol schema. Reads need nothing
 * more; actions go through `act`, which writes the audit entry with the real actor.
 */
export class Toolbox {
  constructor(
    private readonly sql: Sql,
    private readonly agents: AgentHub,
  ) {}

  /** The agent's answer to `req`, checked against `schema`; coded AppErrors otherwise. */
  async ask<T>(deviceId: string, req: ToolboxRequest, schema: Type<T>): Promise<T> {
    const r = await this.agents.call(deviceId, { type: "toolbox", data: req }, TOOLBOX_DEADLINES[req.op]);
    return checkedAnswer(r, schema, toolboxFailure, { deviceId, kind: "toolbox", op: req.op });
  }

  /**
   * An action on the device, audited with its actor whether the device did it or refused it
   * (`outcome` is "ok" or the code); nothing is audited when the device cannot be reached.
   */
  async act<T>(
    a: {
      organizationId: string;
      deviceId: string;
      /** The device that does it when not the target itself (the neighbour relaying a wake). */
      via?: string;
      actor: Actor;
      ip: string | null;
      action: string;
      details: Record<string, unknown>;
    },
    req: ToolboxRequest,
    schema: Type<T>,
    summary: (result: T) => Record<string, unknown>,
  ): Promise<T> {
    return auditedAction(this.sql, a, () => this.ask(a.via ?? a.deviceId, req, schema), summary);
  }
}
