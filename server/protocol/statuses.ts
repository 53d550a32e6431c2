import { type } from "arktype";

/** A device's connection status (docs/DESIGN: online, unresponsive, offline). */
export const DeviceStatus = type("'online' | 'unresponsive' | 'offline'");
export type DeviceStatus = typeof DeviceStatus.infer;

/** A command's lifecycle: queued → sent → running → one of the final statuses. */
export const CommandStatus = type("'queued' | 'sent' | 'running' | 'succeeded' | 'failed' | 'timed_out' | 'cancelled' | 'expired'");
export type CommandStatus = typeof CommandStatus.infer;

/** The statuses a command ends in. */
export const FINAL_COMMAND_STATUSES = [
  "succeeded",
  "failed",
  "timed_out",
  "cancelled",
  "expired",
] as const satisfies readonly CommandStatus[];
