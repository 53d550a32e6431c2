import type { Type } from "arktype";
import { type } from "arktype";
import type { Sql } from "postgres";
import type { AgentHub } from "../agents/hub.ts";
import type { Actor } from "../audit/actor.ts";
import { auditActor, writeAudit } from "../audit/store.ts";
import { AppError, Conflict, NotFound } from "../errors.ts";
import { log } from "../log.ts";
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

/** The answer to an agent's `{ ok: false, code }`: a status and a stable code for the API. */
function agentFailure(code: string, message?: string): AppError {
  switch (code) {
    case "NOT_CONNECTED":
    case "DISCONNECTED":
      return new Conflict("DEVICE_OFFLINE", "the device is not connected; try again when it is online");
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
    case "TOO_MANY_CALLS":
      return new AppError(429, "AGENT_BUSY", "too many requests to this device at once");
    case "DEADLINE_EXCEEDED":
      return new AppError(503, "AGENT_TIMEOUT", "the device did not answer in time");
    default:
      return new AppError(503, "AGENT_ERROR", message ? `the device reported ${code}: ${message}` : `the device reported ${code}`);
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
    if (!r.ok) throw agentFailure(r.code, r.message);
    const data = schema(r.data);
    if (data instanceof type.errors) {
      log("warn", "toolbox answer does not match the protocol", { deviceId, op: req.op, problem: data.summary.slice(0, 300) });
      throw new AppError(503, "AGENT_BAD_REPLY", "the device's answer does not match the protocol");
    }
    return data as T;
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
    const audit = (details: Record<string, unknown>) =>
      writeAudit(this.sql, {
        ...auditActor(a.organizationId, a.actor),
        action: a.action,
        targetType: "device",
        targetId: a.deviceId,
        ip: a.ip,
        details: { ...a.details, ...details },
      });
    try {
      const result = await this.ask(a.via ?? a.deviceId, req, schema);
      await audit({ outcome: "ok", ...summary(result) });
      return result;
    } catch (err) {
      if (err instanceof AppError && !["DEVICE_OFFLINE", "AGENT_BUSY"].includes(err.code)) await audit({ outcome: err.code });
      throw err;
    }
  }
}
