import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { type } from "arktype";
import * as v from "valibot";
import { AGENT_WIRE_PATH, agentWireSource, withoutFormatting } from "../scripts/agent-wire.ts";
import { BeaconResponse, ServerFrame } from "../server/protocol/frames.ts";
import { BeaconResponseSchema, parseServerFrame } from "./wire.ts";

const UUID = "01a2086d-8271-73e7-9e11-56bb5eff3ab1";

const settings = { telemetryIntervalS: 30, beaconIntervalS: 60, liveIntervalS: null };
const good: unknown[] = [
  { v: 1, id: "a", type: "welcome", data: { deviceId: "d", serverTime: "t", settings, ackedSeq: 0 } },
  { v: 1, id: "a", type: "ack", data: { seq: 3, stored: true } },
  { v: 1, id: "a", type: "settings", data: { ...settings, liveIntervalS: 2 } },
  { v: 1, id: "a", type: "settings", data: { ...settings, reconnectWindowS: 20 } },
  { v: 1, id: "a", type: "rotate_secret", deadline: 1, data: { secret: "s" } },
  { v: 1, id: "a", type: "error", data: { code: "X", message: "m" } },
  {
    v: 1,
    id: "a",
    type: "command",
    data: { commandId: "01a2086d-8271-73e7-9e11-56bb5eff3ab1", spec: { kind: "reboot", delaySeconds: 0 } },
  },
  { v: 1, id: "a", type: "command", data: { commandId: UUID, spec: { kind: "reboot", delaySeconds: 86_400 }, deadline: 0 } },
  { v: 1, id: "a", type: "command", data: { commandId: UUID, spec: { kind: "shutdown", delaySeconds: 0, message: "m" }, deadline: 1 } },
  { v: 1, id: "a", type: "terminal_open", data: { sessionId: "00000000-0000-0000-0000-000000000000", cols: 1, rows: 500 } },
  {
    v: 1,
    id: "a",
    type: "command",
    data: {
      commandId: "01a2086d-8271-73e7-9e11-56bb5eff3ab1",
      spec: { kind: "run_script", language: "bash", content: "x", args: [], env: {}, timeoutSeconds: 5 },
    },
  },
  { v: 1, id: "a", type: "terminal_open", data: { sessionId: "01a2086d-8271-73e7-9e11-56bb5eff3ab1", cols: 80, rows: 24 } },
  { v: 1, id: "a", type: "terminal_input", data: { sessionId: "01a2086d-8271-73e7-9e11-56bb5eff3ab1", data: "ls\r" } },
  { v: 1, id: "a", type: "terminal_resize", data: { sessionId: "01a2086d-8271-73e7-9e11-56bb5eff3ab1", cols: 120, rows: 40 } },
  { v: 1, id: "a", type: "terminal_close", data: { sessionId: "01a2086d-8271-73e7-9e11-56bb5eff3ab1" } },
];
const bad: unknown[] = [
  null,
  "text",
  { v: 2, id: "a", type: "ack", data: { seq: 3, stored: true } },
  { v: 1, id: "", type: "ack", data: { seq: 3, stored: true } },
  { v: 1, id: "a", type: "ack", data: { seq: 0, stored: true } },
  { v: 1, id: "a", type: "ack", data: { seq: 1.5, stored: true } },
  { v: 1, id: "a", type: "launch", data: {} },
  { v: 1, id: "a", type: "rotate_secret", data: { secret: "s" } },
  { v: 1, id: "a", type: "settings", data: { ...settings, telemetryIntervalS: 0 } },
  { v: 1, id: "a", type: "settings", data: { ...settings, reconnectWindowS: 0 } },
  { v: 1, id: "a", type: "settings", data: { ...settings, reconnectWindowS: 3600 } },
  { v: 1, id: "a", type: "welcome", data: { deviceId: "d", serverTime: "t", settings } },
  { v: 1, id: "a", type: "command", data: { commandId: "nope", spec: { kind: "reboot", delaySeconds: 0 } } },
  {
    v: 1,
    id: "a",
    type: "command",
    data: {
      commandId: "01a2086d-8271-73e7-9e11-56bb5eff3ab1",
      spec: { kind: "run_script", language: "cobol", content: "x", args: [], env: {}, timeoutSeconds: 5 },
    },
  },
  { v: 1, id: "a", type: "terminal_open", data: { sessionId: "01a2086d-8271-73e7-9e11-56bb5eff3ab1", cols: 0, rows: 24 } },
  { v: 1, id: "a", type: "terminal_input", data: { sessionId: "01a2086d-8271-73e7-9e11-56bb5eff3ab1", data: "x".repeat(70_000) } },
  { v: 1, id: "a", type: "command", data: { commandId: UUID, spec: { kind: "reboot", delaySeconds: 0 }, deadline: -1 } },
  { v: 1, id: "a", type: "command", data: { commandId: UUID, spec: { kind: "reboot", delaySeconds: 0 }, deadline: 1.5 } },
  { v: 1, id: "a", type: "command", data: { commandId: UUID, spec: { kind: "reboot", delaySeconds: 86_401 } } },
  // not a UUID variant arktype accepts (the hand-written valibot schema once took it)
  { v: 1, id: "a", type: "terminal_close", data: { sessionId: "01a2086d-8271-73e7-0e11-56bb5eff3ab1" } },
  { v: 1, id: "a".repeat(65), type: "terminal_close", data: { sessionId: UUID } },
];

describe("the agent's frame checks agree with the server's arktype schemas", () => {
  test(`${AGENT_WIRE_PATH} is generated from the current arktype schemas (run bun scripts/agent-wire.ts)`, async () => {
    const checkedIn = await Bun.file(join(import.meta.dir, "..", AGENT_WIRE_PATH)).text();
    expect(withoutFormatting(checkedIn)).toBe(withoutFormatting(agentWireSource()));
  });

  for (const [i, frame] of good.entries()) {
    test(`accepted by both: ${i}`, () => {
      expect(ServerFrame(frame) instanceof type.errors).toBe(false);
      expect("frame" in parseServerFrame(frame)).toBe(true);
    });
  }
  for (const [i, frame] of bad.entries()) {
    test(`refused by both: ${i}`, () => {
      expect(ServerFrame(frame) instanceof type.errors).toBe(true);
      expect("problem" in parseServerFrame(frame)).toBe(true);
    });
  }
  test("beacon responses", () => {
    const ok = { settings, ackedSeq: 5, rotateSecret: { secret: "x" } };
    const notOk = { settings, ackedSeq: -1 };
    expect(BeaconResponse(ok) instanceof type.errors).toBe(false);
    expect(v.safeParse(BeaconResponseSchema, ok).success).toBe(true);
    expect(BeaconResponse(notOk) instanceof type.errors).toBe(true);
    expect(v.safeParse(BeaconResponseSchema, notOk).success).toBe(false);
  });
});
