import type { Type } from "arktype";
import type { Sql } from "postgres";
import { auditedAction, checkedAnswer } from "../agents/answers.ts";
import type { AgentHub } from "../agents/hub.ts";
import type { Actor } from "../audit/actor.ts";
import { AppError, Conflict, Forbidden, NotFound } from "../errors.ts";
import type { FilesRequest } from "../protocol/files.ts";

/** How long each kind of request may take on the agent, ms (recursive ones walk whole trees). */
const DEADLINES: Record<FilesRequest["op"], number> = {
  list: 20_000,
  stat: 20_000,
  count: 120_000,
  mkdir: 10_000,
  move: 600_000,
  copy: 600_000,
  delete: 600_000,
  chmod: 10_000,
  chown: 10_000,
  acl: 30_000,
  read: 30_000,
  write_status: 15_000,
  write: 30_000,
  write_commit: 120_000,
  write_abort: 15_000,
};

/** Codes of the agent that mean "not now" (the device is away or busy): a transfer waits and resumes. */
export const TRANSIENT = new Set(["NOT_CONNECTED", "DISCONNECTED", "DEADLINE_EXCEEDED", "TOO_MANY_CALLS", "WORKER_EXITED"]);

/** The file explorer's own failure codes of an agent as the API reports them (the shared ones: `agentFailure`). */
function filesFailure(code: string, message?: string): AppError | undefined {
  switch (code) {
    case "NOT_FOUND":
      return new NotFound("FILE_NOT_FOUND", message ?? "no such file or directory on the device");
    case "PERMISSION_DENIED":
      return new Forbidden(
        "FILE_PERMISSION_DENIED",
        `${message ?? "permission denied on the device"} (an elevated session may be allowed)`,
      );
    case "SYMLINK_ESCAPE":
      return new Forbidden("SYMLINK_ESCAPE", message ?? "a symlink leads out of the operation's directory");
    case "ELEVATION_REQUIRED":
    case "ELEVATION_UNAVAILABLE":
      return new Conflict(code, message ?? "the device cannot act unprivileged here");
    case "INVALID_PATH":
    case "INVALID_IDENTITY":
    case "INVALID_RIGHTS":
      return new AppError(422, code, message ?? "invalid request");
    case "EXISTS":
    case "NOT_EMPTY":
    case "NOT_A_DIRECTORY":
    case "IS_A_DIRECTORY":
    case "NOT_A_FILE":
    case "PROTECTED_PATH":
    case "INVALID_MOVE":
    case "INVALID_COPY":
    case "TOO_MANY_ENTRIES":
    case "NO_SUCH_ACCOUNT":
    case "NO_SPACE":
    case "READ_ONLY":
    case "BUSY":
    case "CHANGED":
    case "CHECKSUM_MISMATCH":
    case "INVALID_REQUEST":
    case "ACL_UNSUPPORTED":
    case "ACL_FAILED":
      return new Conflict(code === "EXISTS" ? "FILE_EXISTS" : code, message ?? code);
    default:
      return undefined;
  }
}

/**
 * The file explorer on the server: asks a connected agent (one `files` call with a deadline through
 * the AgentHub) and checks the answer against the protocol schema; changes go through `act`, which
 * writes the audit entry with the real actor, the path and the outcome.
 */
export class FileExplorer {
  constructor(
    private readonly sql: Sql,
    private readonly agents: AgentHub,
  ) {}

  /**
   * The raw answer of the agent (transfers use it to tell transient failures from final ones);
   * `payload`: an upload chunk's bytes for a `write` without `data` (raw or base64, as the agent takes them).
   */
  call(deviceId: string, req: FilesRequest, payload?: Uint8Array) {
    return this.agents.call(deviceId, { type: "files", data: req }, DEADLINES[req.op], payload);
  }

  /** The agent's answer to `req`, checked against `schema`; coded AppErrors otherwise. */
  async ask<T>(deviceId: string, req: FilesRequest, schema: Type<T>): Promise<T> {
    return checkedAnswer(await this.call(deviceId, req), schema, filesFailure, { deviceId, kind: "files", op: req.op });
  }

  /** A change on the device, audited with its actor, path and outcome ("ok" or the code); nothing is audited when the device cannot be reached. */
  async act<T>(
    a: { organizationId: string; deviceId: string; actor: Actor; ip: string | null; action: string; details: Record<string, unknown> },
    req: FilesRequest,
    schema: Type<T>,
    summary: (result: T) => Record<string, unknown>,
  ): Promise<T> {
    return auditedAction(
      this.sql,
      { ...a, details: { ...a.details, elevated: req.elevated } },
      () => this.ask(a.deviceId, req, schema),
      summary,
    );
  }
}
