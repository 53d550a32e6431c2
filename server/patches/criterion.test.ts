import { describe, expect, test } from "bun:test";
import { type DeviceSnapshot, compileExpression } from "../groups/expression.ts";

/** The smart-group criteria patch management adds: missing critical and security updates. */
const device = (patch: DeviceSnapshot["patch"]): DeviceSnapshot => ({
  os: "windows",
  osVersion: "10.0.17763",
  osName: "Windows Server 2019 Datacenter",
  arch: "x64",
  hostname: "dc-01",
  cpuModel: "Xeon",
  memoryTotalBytes: 8 * 1024 ** 3,
  cpuCores: 4,
  agentVersion: "0.4.0",
  status: "online",
  siteName: "HQ",
  clientName: "Acme",
  tags: [],
  telemetry: null,
  patch,
});

describe("patch.critical_missing and patch.security_missing in smart groups", () => {
  const expr = compileExpression('os = "windows" and os_name ~ "Server 2019" and patch.critical_missing > 0');
  test("a device missing a critical update matches; one fully patched does not", () => {
    expect(expr(device({ criticalMissing: 2, securityMissing: 0 }))).toBe(true);
    expect(expr(device({ criticalMissing: 0, securityMissing: 5 }))).toBe(false);
  });
  test("a device never scanned matches no comparison (its counts are unknown, not zero)", () => {
    expect(expr(device(null))).toBe(false);
    expect(compileExpression("patch.security_missing = 0")(device(null))).toBe(false);
    expect(compileExpression("patch.security_missing = 0")(device({ criticalMissing: 0, securityMissing: 0 }))).toBe(true);
  });
});
