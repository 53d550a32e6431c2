import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDefender } from "../../agent/platform/windows-toolbox.ts";
import { parseSensorsJson, parseSmartctl } from "../../agent/toolbox/health.ts";
import type { HealthReport } from "../protocol/toolbox.ts";
import { MISSING_DEFINITIONS_DAYS, healthMetric } from "./health.ts";

/** Health rule values from reports the agent's parsers make of recorded real output (agent/test-data). */
const data = (path: string) => readFileSync(join(import.meta.dir, "../../agent/test-data", path), "utf8");
const AT = Date.parse("2013-07-30T12:00:00Z");
const report = (r: Partial<HealthReport>): HealthReport => ({ sensors: [], antivirus: [], disks: [], batteries: [], notes: [], ...r });
const sample = (health: HealthReport) => ({ organizationId: "o", deviceId: "d", at: AT, health });
const metric = (m: Parameters<typeof healthMetric>[0]["metric"], health: HealthReport) =>
  healthMetric({ metric: m, service: null }, sample(health));

describe("health rule values on recorded output", () => {
  test("disk_failing: the failing Hitachi counts (assessment, reallocated and pending sectors); the NVMe does not", () => {
    const failing = parseSmartctl(data("smartctl/ata-hitachi-failing.json"));
    const nvme = parseSmartctl(data("smartctl/nvme-samsung-970-evo.json"));
    expect(metric("disk_failing", report({ disks: [failing, nvme] }))).toEqual({
      value: 1,
      detail: "/dev/sdc (Hitachi HDS721050DLE630): S.M.A.R.T. assessment failed, 1975 reallocated sectors, 8 pending sectors",
    });
    expect(metric("disk_failing", report({ disks: [nvme] }))).toEqual({ value: 0, detail: "every disk healthy" });
    expect(metric("disk_failing", report({}))).toBeUndefined(); // no disk read: nothing to compare
  });

  test("temperature_c: the hottest of the sensors (sensors -j) and the disks", () => {
    const sensors = parseSensorsJson(data("linux/toolbox/sensors-j-amdgpu-it8603.txt"));
    const nvme = parseSmartctl(data("smartctl/nvme-samsung-970-evo.json"));
    expect(metric("temperature_c", report({ sensors, disks: [nvme] }))).toEqual({
      value: 45,
      detail: "it8603-isa-0290 Asus A68HM-K Mobo at 45 °C",
    });
    expect(metric("temperature_c", report({ sensors: sensors.filter((s) => s.kind === "fan") }))).toBeUndefined();
  });

  test("antivirus: Defender on and current (Get-MpComputerStatus); real-time off → disabled; missing definitions", () => {
    const text = data("windows/toolbox/get-mpcomputerstatus.txt");
    const on = parseDefender(text, AT);
    const off = parseDefender(text.replace(/^RealTimeProtectionEnabled(\s+):\s*True$/m, "RealTimeProtectionEnabled$1: False"), AT);
    if (!on || !off) throw new Error("Defender sample not parsed");
    expect(metric("antivirus_disabled", report({ antivirus: [on] }))).toEqual({
      value: 0,
      detail: "Microsoft Defender Antivirus protecting",
    });
    expect(metric("antivirus_disabled", report({ antivirus: [off] }))).toMatchObject({ value: 1 });
    expect(metric("antivirus_disabled", report({}))).toEqual({ value: 1, detail: "no antivirus found" });
    expect(metric("antivirus_definitions_age_days", report({ antivirus: [on] }))).toMatchObject({ value: 0 });
    const undated = { ...on, definitionsUpdatedAt: null };
    expect(metric("antivirus_definitions_age_days", report({ antivirus: [undated] }))?.value).toBe(MISSING_DEFINITIONS_DAYS);
  });

  test("service_state: 1 unless running; a service the device does not have gives nothing", () => {
    const services = new Map([
      ["Spooler", "stopped" as const],
      ["atd", "running" as const],
    ]);
    const s = { organizationId: "o", deviceId: "d", at: AT, services };
    expect(healthMetric({ metric: "service_state", service: "Spooler" }, s)).toEqual({ value: 1, detail: "Spooler is stopped" });
    expect(healthMetric({ metric: "service_state", service: "atd" }, s)).toEqual({ value: 0, detail: "atd is running" });
    expect(healthMetric({ metric: "service_state", service: "cups" }, s)).toBeUndefined();
  });
});
