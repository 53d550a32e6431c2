import type { Type } from "arktype";
import { type } from "arktype";
import type { Sql } from "postgres";
import type { Actor } from "../audit/actor.ts";
import { auditActor, writeAudit } from "../audit/store.ts";
import { AppError, Conflict } from "../errors.ts";
import { log } from "../log.ts";

/** An agent call's failure as the API reports it: a capability's own codes first, then `agentFailure`'s. */
export type FailureMap = (code: string, message?: string) => AppError | undefined;

/**
 * The failures every capability shares (the device away, busy or slow, or an unknown code), after
 * the capability's own codes (`own`).
 */
function agentFailure(code: string, message: string | undefined, own: FailureMap): AppError {
  const mine = own(code, message);
  if (mine) return mine;
  switch (code) {
    case "NOT_CONNECTED":
    case "DISCONNECTED":
      return new Conflict("DEVICE_OFFLINE", "the device is not connected; try again when it is online");
    case "TOO_MANY_CALLS":
      return new AppError(429, "AGENT_BUSY", "too many requests to this device at once");
    case "DEADLINE_EXCEEDED":
      return new AppError(503, "AGENT_TIMEOUT", "the device did not answer in time");
    default:
      return new AppError(503, "AGENT_ERROR", message ? `the device reported ${code}: ${message}` : `the device reported ${code}`);
  }
}

/** An agent's answer to a call (`AgentHub.call`), checked: its data against `schema`, its failure through `own`. */
export function checkedAnswer<T>(
  r: { ok: true; data?: unknown } | { ok: false; code: string; message?: string },
  schema: Type<T>,
  own: FailureMap,
  what: { deviceId: string; kind: string; op: string },
): T {
  if (!r.ok) throw agentFailure(r.code, r.message, own);
  const data = schema(r.data);
  if (data instanceof type.errors) {
    log("warn", `${what.kind} answer does not match the protocol`, {
      deviceId: what.deviceId,
      op: what.op,
      problem: data.summary.slice(0, 300),
    });
    throw new AppError(503, "AGENT_BAD_REPLY", "the device's answer does not match the protocol");
  }
  return data as T;
}

/**
 * Runs an action on a device and audits it with its actor whether the device did it or refused it
 * (`outcome` "ok" or the code); nothing is audited when the device could not be reached or was busy.
 */
export async function auditedAction<T>(
  sql: Sql,
  a: { organizationId: string; deviceId: string; actor: Actor; ip: string | null; action: string; details: Record<string, unknown> },
  run: () => Promise<T>,
  summary: (result: T) => Record<string, unknown>,
): Promise<T> {
  const audit = (details: Record<string, unknown>) =>
    writeAudit(sql, {
      ...auditActor(a.organizationId, a.actor),
      action: a.action,
      targetType: "device",
      targetId: a.deviceId,
      ip: a.ip,
      details: { ...a.details, ...details },
    });
  try {
    const result = await run();
    await audit({ outcome: "ok", ...summary(result) });
    return result;
  } catch (err) {
    if (err instanceof AppError && !["DEVICE_OFFLINE", "AGENT_BUSY"].includes(err.code)) await audit({ outcome: err.code });
    throw err;
  }
}
