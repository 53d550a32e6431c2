/**
 * The dashboard's live socket (`/api/v1/live`): every frame is `{ v, id, type, data }`.
 * The web app imports these types (type-only) from here.
 */
import { type } from "arktype";
import { envelope, newEnvelope } from "./envelope.ts";
import { CommandStatus, DeviceStatus } from "./statuses.ts";

/** A live chart point: the device list's latest-sample figures (percentages 0–100, rates in bytes/s). */
const LiveTelemetryPoint = type({
  time: "string",
  cpuPercent: "number",
  memoryPercent: "number",
  diskPercent: "number",
  swapPercent: "number",
  load1: "number",
  networkRxBps: "number",
  networkTxBps: "number",
});

const deviceId = "string";
const alert = { alertId: "string", deviceId, alertType: "string", severity: "string", message: "string" } as const;

/** What the server pushes to dashboards. */
export const LiveFrame = type({ ...envelope, type: "'hello'", data: { organizationId: "string" } })
  .or({ ...envelope, type: "'error'", data: { code: "string", message: "string" } })
  .or({
    ...envelope,
    type: "'device.status'",
    data: { deviceId, hostname: "string", status: DeviceStatus, previous: DeviceStatus, at: "string" },
  })
  .or({ ...envelope, type: "'device.telemetry'", data: { deviceId, point: LiveTelemetryPoint } })
  .or({ ...envelope, type: "'device.enrolled'", data: { deviceId, hostname: "string" } })
  .or({
    ...envelope,
    type: "'command.updated'",
    /** `stdout`/`stderr`: output since the previous event (a chunk, not the whole). */
    data: { commandId: "string", deviceId, status: CommandStatus, exitCode: "number | null", stdout: "string", stderr: "string" },
  })
  .or({ ...envelope, type: "'alert.created'", data: alert })
  .or({ ...envelope, type: "'alert.resolved'", data: alert });
export type LiveFrame = typeof LiveFrame.infer;

/** An event as capabilities publish it: the frame's type beside its data (the hub adds the envelope). */
export type LiveEvent =
  Exclude<LiveFrame, { type: "hello" | "error" }> extends infer F
    ? F extends { type: infer T; data: infer D }
      ? { type: T } & D
      : never
    : never;

/** The frame that carries a published event. */
export function liveFrame(event: LiveEvent): LiveFrame {
  const { type, ...data } = event;
  // TypeScript does not tie `data` back to `type` after destructuring; LiveEvent is built from LiveFrame.
  return { ...newEnvelope(), type, data } as LiveFrame;
}

const watch = { type: "'watch' | 'unwatch'" } as const;

/**
 * What dashboards send: `watch` a device for its 2 s telemetry, or `unwatch` it. The flat
 * `{ type, deviceId }` form of protocol 1 before the envelope stays accepted (deprecated in 1).
 */
export const LiveClientFrame = type({ ...envelope, ...watch, data: { deviceId: "string.uuid" } }).or({ ...watch, deviceId: "string.uuid" });
export type LiveClientFrame = typeof LiveClientFrame.infer;
