import { type } from "arktype";
import { DeviceFacts, TelemetrySample } from "./telemetry.ts";

import { MAX_BATCH_SAMPLES, MAX_BEACON_BATCHES } from "./constants.ts";
import { envelope, newEnvelope } from "./envelope.ts";
import { PatchInstallSpec, PatchRequest } from "./patch.ts";
import { FilesRequest } from "./files.ts";
import { ToolboxRequest } from "./toolbox.ts";

export { MAX_BATCH_SAMPLES, MAX_BEACON_BATCHES, MAX_FRAME_BYTES, PROTOCOL_VERSION } from "./constants.ts";
export { FilesRequest } from "./files.ts";
export { ToolboxRequest } from "./toolbox.ts";

export const TelemetryBatch = type({
  /** Per-device sequence number, strictly increasing; the server stores a batch once (a whole JavaScript number, inside bigint). */
  seq: "0 < number.integer <= 9007199254740991",
  samples: TelemetrySample.array().moreThanLength(0).atMostLength(MAX_BATCH_SAMPLES),
});
export type TelemetryBatch = typeof TelemetryBatch.infer;

export const CallResult = type({ ok: "true", "data?": "unknown" }).or({
  ok: "false",
  code: "0 < string <= 64",
  "message?": "string <= 1024",
});
export type CallResult = typeof CallResult.infer;

/** Bytes of stdout or stderr in one command_update frame, at most. */
export const MAX_OUTPUT_CHUNK = 65_536;

export const ScriptLanguage = type("'bash' | 'sh' | 'powershell' | 'python'");
export type ScriptLanguage = typeof ScriptLanguage.infer;

/** What a command asks of the agent; `kind` picks the payload. */
export const CommandSpec = type({
  kind: "'reboot' | 'shutdown'",
  delaySeconds: "0 <= number.integer <= 86400",
  "message?": "string <= 200",
})
  .or({
    kind: "'run_script'",
    language: ScriptLanguage,
    content: "0 < string <= 262144",
    args: "(string <= 1024)[] <= 64",
    env: "Record<string, string <= 4096>",
    timeoutSeconds: "1 <= number.integer <= 86400",
  })
  .or(PatchInstallSpec);
export type CommandSpec = typeof CommandSpec.infer;

/**
 * A command handed to the agent (in a `command` frame or a beacon response). `deadline` (epoch ms,
 * the command's expiry) is when it may no longer start: the agent then reports it `expired`
 * instead of running it. Servers always send it; an absent one (servers before it) means none.
 */
export const CommandDelivery = type({ commandId: "string.uuid", spec: CommandSpec, "deadline?": "number.integer >= 0" });
export type CommandDelivery = typeof CommandDelivery.infer;

/** Progress of a command on the agent: output chunks while running, then the outcome once (`expired`: its deadline passed before it started). */
export const CommandUpdate = type({
  commandId: "string.uuid",
  status: "'running' | 'succeeded' | 'failed' | 'timed_out' | 'expired'",
  /** The process's exit code; Windows reports NTSTATUS codes unsigned (0xC0000005 is 3221225477). */
  "exitCode?": "-2147483648 <= number.integer <= 4294967295",
  "stdout?": `string <= ${MAX_OUTPUT_CHUNK}`,
  "stderr?": `string <= ${MAX_OUTPUT_CHUNK}`,
  "error?": "string <= 1024",
});
export type CommandUpdate = typeof CommandUpdate.infer;

const sessionId = "string.uuid";
const cols = "1 <= number.integer <= 1000";
const rows = "1 <= number.integer <= 500";
/** Bytes of terminal data in one frame, at most. */
export const MAX_TERMINAL_CHUNK = 65_536;
const terminalData = `string <= ${MAX_TERMINAL_CHUNK}`;

/** Frames the agent sends over its socket. */
export const AgentFrame = type({
  ...envelope,
  type: "'hello'",
  data: {
    agentVersion: "0 < string <= 32",
    facts: DeviceFacts,
    /** The agent takes upload chunks as binary messages (protocol/binary.ts); absent from agents before them. */
    "binaryChunks?": "boolean",
  },
})
  .or({ ...envelope, type: "'telemetry'", data: TelemetryBatch })
  .or({ ...envelope, type: "'result'", data: CallResult })
  .or({ ...envelope, type: "'command_update'", data: CommandUpdate })
  .or({ ...envelope, type: "'terminal_output'", data: { sessionId, data: terminalData } })
  .or({ ...envelope, type: "'terminal_exit'", data: { sessionId, code: "number.integer | null", "error?": "string <= 1024" } });
export type AgentFrame = typeof AgentFrame.infer;

/** Settings the server hands the agent on connect and in beacon responses. */
export const AgentSettings = type({
  telemetryIntervalS: "number > 0",
  beaconIntervalS: "number > 0",
  /** While a technician watches the device: seconds between samples; null when nobody watches. */
  liveIntervalS: "number > 0 | null",
  /**
   * Seconds over which to spread the first reconnect after the socket is lost (sized to the fleet, so a
   * restarted server is not hit by every agent at once). Absent from servers before it (agents then use 10).
   */
  "reconnectWindowS?": "0 < number <= 600",
});
export type AgentSettings = typeof AgentSettings.infer;

/** Frames the server sends to the agent. Calls (`rotate_secret`, `toolbox`, `files`) carry a deadline (epoch ms) and expect a `result` with the same id. */
export const ServerFrame = type({
  ...envelope,
  type: "'welcome'",
  data: {
    deviceId: "string",
    serverTime: "string",
    settings: AgentSettings,
    ackedSeq: "number.integer >= 0",
    /** The server takes download chunks as binary messages (protocol/binary.ts); absent from servers before them. */
    "binaryChunks?": "boolean",
  },
})
  .or({
    ...envelope,
    type: "'ack'",
    data: { seq: "number.integer > 0", stored: "boolean" },
  })
  .or({ ...envelope, type: "'settings'", data: AgentSettings })
  .or({
    ...envelope,
    type: "'rotate_secret'",
    deadline: "number",
    data: { secret: "0 < string <= 256" },
  })
  .or({
    ...envelope,
    type: "'error'",
    data: { code: "string", message: "string" },
  })
  .or({ ...envelope, type: "'command'", data: CommandDelivery })
  .or({ ...envelope, type: "'terminal_open'", data: { sessionId, cols, rows } })
  .or({ ...envelope, type: "'terminal_input'", data: { sessionId, data: terminalData } })
  .or({ ...envelope, type: "'terminal_resize'", data: { sessionId, cols, rows } })
  .or({ ...envelope, type: "'terminal_close'", data: { sessionId } })
  .or({ ...envelope, type: "'toolbox'", deadline: "number", data: ToolboxRequest })
  .or({ ...envelope, type: "'patch'", deadline: "number", data: PatchRequest })
  .or({ ...envelope, type: "'files'", deadline: "number", data: FilesRequest });
export type ServerFrame = typeof ServerFrame.infer;

/** A frame as its sender writes it: the envelope (`v`, and `id` unless it answers a frame) is added on sending. */
export type Unenveloped<F> = F extends unknown ? Omit<F, "v" | "id"> & { id?: string } : never;

/** A server frame with its envelope: this protocol version and the given id, or a new one. */
export function serverFrame(f: Unenveloped<ServerFrame>): ServerFrame {
  return { ...f, ...newEnvelope(), ...(f.id ? { id: f.id } : {}) };
}

/** Body of the signed HTTP beacon the agent posts while its socket is down. */
export const BeaconBody = type({
  v: "1",
  agentVersion: "0 < string <= 32",
  /** Oldest-first batches not yet acknowledged; the latest sample is in the last one. */
  batches: TelemetryBatch.array().atMostLength(MAX_BEACON_BATCHES),
});
export type BeaconBody = typeof BeaconBody.infer;

export const BeaconResponse = type({
  settings: AgentSettings,
  /** Highest batch sequence the server has stored for this device. */
  ackedSeq: "number.integer >= 0",
  "rotateSecret?": { secret: "string" },
  /** Commands waiting for the device, oldest first (their progress is reported once the socket is back). */
  "commands?": CommandDelivery.array(),
});
export type BeaconResponse = typeof BeaconResponse.infer;

export const EnrollRequest = type({
  token: "0 < string <= 256",
  agentVersion: "0 < string <= 32",
  facts: DeviceFacts,
  tags: "(0 < string <= 128)[] <= 32",
});
export type EnrollRequest = typeof EnrollRequest.infer;

export const EnrollResponse = type({
  deviceId: "string",
  secret: "string",
  settings: AgentSettings,
});
export type EnrollResponse = typeof EnrollResponse.infer;
