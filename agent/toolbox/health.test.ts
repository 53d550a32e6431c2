import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseClamVersion } from "./antivirus.ts";
import { parseScan, parseSensorsJson, parseSmartctl, readBatteries, readHwmon } from "./health.ts";

const sample = (name: string) => readFileSync(join(import.meta.dir, "../test-data/smartctl", name), "utf8");

describe("S.M.A.R.T. from smartctl --json (recorded output, agent/test-data/smartctl/README.md)", () => {
  test("a failing hard disk: assessment failed, reallocated and pending sectors, temperature, hours", () => {
    expect(parseSmartctl(sample("ata-hitachi-failing.json"))).toEqual({
      device: "/dev/sdc",
      model: "Hitachi HDS721050DLE630",
      serial: "MSK423Y20S3HBC",
      protocol: "ATA",
      passed: false,
      temperatureC: 25,
      reallocatedSectors: 1975,
      pendingSectors: 8,
      wearPercent: null,
      mediaErrors: null,
      powerOnHours: 65592,
    });
  });

  test("an NVMe SSD: passed, wear (percentage used), media errors", () => {
    expect(parseSmartctl(sample("nvme-samsung-970-evo.json"))).toEqual({
      device: "/dev/nvme0",
      model: "Samsung SSD 970 EVO 500GB",
      serial: "S466NX0M776250H",
      protocol: "NVMe",
      passed: true,
      temperatureC: 35,
      reallocatedSectors: null,
      pendingSectors: null,
      wearPercent: 3,
      mediaErrors: 7,
      powerOnHours: 12798,
    });
  });

  test("scan results: only device names under /dev and plain types reach the next smartctl run", () => {
    const scan = JSON.stringify({
      devices: [
        { name: "/dev/sda", type: "sat" },
        { name: "/dev/nvme0", type: "nvme" },
        { name: "-d;reboot", type: "sat" },
        { name: "/dev/sdb", type: "sat;reboot" },
      ],
    });
    expect(parseScan(scan)).toEqual([
      { name: "/dev/sda", type: "sat" },
      { name: "/dev/nvme0", type: "nvme" },
    ]);
    expect(parseScan(sample("scan-open-virtio-vm.json"))).toEqual([]);
  });
});

describe("lm-sensors (sensors -j, recorded output: agent/test-data/linux/toolbox/README.md)", () => {
  test("an AMD GPU and an ITE Super I/O chip: temperatures, fans, limits; unreadable voltages dropped", () => {
    const text = readFileSync(join(import.meta.dir, "../test-data/linux/toolbox/sensors-j-amdgpu-it8603.txt"), "utf8");
    expect(parseSensorsJson(text)).toEqual([
      { chip: "amdgpu-pci-0008", label: "temp1", kind: "temperature", value: 12, critical: 120 },
      { chip: "it8603-isa-0290", label: "CPU Fan", kind: "fan", value: 2509 },
      { chip: "it8603-isa-0290", label: "Mobo Fan", kind: "fan", value: 0 },
      { chip: "it8603-isa-0290", label: "AMD A6-7400K Radeon R5", kind: "temperature", value: 44, max: 127 },
      // this board's temp2_max of -33 is nonsense: left out
      { chip: "it8603-isa-0290", label: "Asus A68HM-K Mobo", kind: "temperature", value: 45 },
    ]);
    expect(() => parseSensorsJson("No sensors found!")).toThrow();
  });
});

describe("sysfs readers on a machine without the hardware (this VM)", () => {
  test("no hwmon directory and no battery: empty, no error", () => {
    expect(readHwmon("/nonexistent/hwmon")).toEqual([]);
    expect(readBatteries("/nonexistent/power_supply")).toEqual([]);
    expect(readBatteries()).toEqual([]); // this VM has no battery
  });
});

describe("ClamAV", () => {
  test("recorded here: ClamAV installed without a signature database → definitions missing, outdated", () => {
    const text = readFileSync(join(import.meta.dir, "../test-data/linux/toolbox/clamscan-version-no-database.txt"), "utf8");
    expect(parseClamVersion(text, Date.now())).toEqual({
      product: "ClamAV 1.4.6",
      enabled: null,
      realTime: null,
      definitions: null,
      definitionsUpdatedAt: null,
      outdated: true,
    });
    expect(parseClamVersion("clamscan: command not found", Date.now())).toBeUndefined();
  });
});
