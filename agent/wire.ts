/**
 * What the agent accepts from the server, checked with valibot. The server's arktype schemas in
 * server/protocol/ are the source of truth; the agent does not load arktype because it costs
 * ~40 MB of RSS in a compiled binary (docs/benchmarks.md), against a 20 MB budget. Each schema
 * here is typed against the server's inferred type, so drift fails `tsc`, and wire.test.ts checks
 * both accept and refuse the same frames.
 */
import * as v from "valibot";
import type { AgentSettings, BeaconResponse, ServerFrame } from "../server/protocol/frames.ts";

const envelope = { v: v.literal(1), id: v.pipe(v.string(), v.minLength(1), v.maxLength(64)) };

const Settings = v.object({
  telemetryIntervalS: v.pipe(v.number(), v.gtValue(0)),
  beaconIntervalS: v.pipe(v.number(), v.gtValue(0)),
  liveIntervalS: v.nullable(v.pipe(v.number(), v.gtValue(0))),
}) satisfies v.GenericSchema<unknown, AgentSettings>;

const seq = v.pipe(v.number(), v.integer());
const int = (min: number, max: number) => v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));

const sessionId = v.pipe(v.string(), v.uuid());

const CommandSpecSchema = v.variant("kind", [
  v.object({
    kind: v.picklist(["reboot", "shutdown"]),
    delaySeconds: int(0, 86_400),
    message: v.optional(v.pipe(v.string(), v.maxLength(200))),
  }),
  v.object({
    kind: v.literal("run_script"),
    language: v.picklist(["bash", "sh", "powershell", "python"]),
    content: v.pipe(v.string(), v.minLength(1), v.maxLength(262_144)),
    args: v.pipe(v.array(v.pipe(v.string(), v.maxLength(1024))), v.maxLength(64)),
    env: v.record(v.string(), v.pipe(v.string(), v.maxLength(4096))),
    timeoutSeconds: int(1, 86_400),
  }),
]);

export const ServerFrameSchema = v.variant("type", [
  v.object({
    ...envelope,
    type: v.literal("welcome"),
    data: v.object({ deviceId: v.string(), serverTime: v.string(), settings: Settings, ackedSeq: v.pipe(seq, v.minValue(0)) }),
  }),
  v.object({ ...envelope, type: v.literal("ack"), data: v.object({ seq: v.pipe(seq, v.minValue(1)), stored: v.boolean() }) }),
  v.object({ ...envelope, type: v.literal("settings"), data: Settings }),
  v.object({
    ...envelope,
    type: v.literal("rotate_secret"),
    deadline: v.number(),
    data: v.object({ secret: v.pipe(v.string(), v.minLength(1), v.maxLength(256)) }),
  }),
  v.object({ ...envelope, type: v.literal("error"), data: v.object({ code: v.string(), message: v.string() }) }),
  v.object({
    ...envelope,
    type: v.literal("command"),
    data: v.object({ commandId: v.pipe(v.string(), v.uuid()), spec: CommandSpecSchema }),
  }),
  v.object({ ...envelope, type: v.literal("terminal_open"), data: v.object({ sessionId, cols: int(1, 1000), rows: int(1, 500) }) }),
  v.object({
    ...envelope,
    type: v.literal("terminal_input"),
    data: v.object({ sessionId, data: v.pipe(v.string(), v.maxLength(65_536)) }),
  }),
  v.object({ ...envelope, type: v.literal("terminal_resize"), data: v.object({ sessionId, cols: int(1, 1000), rows: int(1, 500) }) }),
  v.object({ ...envelope, type: v.literal("terminal_close"), data: v.object({ sessionId }) }),
]) satisfies v.GenericSchema<unknown, ServerFrame>;

export const BeaconResponseSchema = v.object({
  settings: Settings,
  ackedSeq: v.pipe(seq, v.minValue(0)),
  rotateSecret: v.optional(v.object({ secret: v.string() })),
  commands: v.optional(v.array(v.object({ commandId: v.pipe(v.string(), v.uuid()), spec: CommandSpecSchema }))),
}) satisfies v.GenericSchema<unknown, BeaconResponse>;

/** A server frame, or undefined (with the reason) when it does not match the protocol. */
export function parseServerFrame(raw: unknown): { frame: ServerFrame } | { problem: string } {
  const r = v.safeParse(ServerFrameSchema, raw);
  return r.success ? { frame: r.output } : { problem: v.summarize(r.issues) };
}
