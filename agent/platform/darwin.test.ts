import { describe, expect, test } from "bun:test";
import { DeviceFacts } from "../../server/protocol/telemetry.ts";
import { ratesBetween } from "../collectors/rate.ts";
import { expectValid, testData } from "../test-data/helpers.ts";
import { darwin, darwinFacts, LAUNCHD_PLIST_PATH, launchdPlist } from "./darwin.ts";
import {
  countLines,
  parseIoregDiskBytes,
  parseIoregSerial,
  parseMacMount,
  parseNetstatIbn,
  parseSwapUsage,
  parseSwVers,
  parseVmStatUsed,
} from "./darwin-parse.ts";

const paths = {
  binaryPath: "/usr/local/bin/sentpulse-agent",
  configPath: "/Library/Application Support/SENTpulse/agent.json",
};

describe("darwin memory parsers", () => {
  test("vm_stat: app memory + wired + compressed, in 16 KiB pages", () => {
    expect(parseVmStatUsed(testData("darwin", "vm_stat.txt"))).toBe((376144 - 12047 + 150894 + 289217) * 16384);
  });

  test("vm_stat on Intel uses its 4 KiB page size", () => {
    const text = "Mach Virtual Memory Statistics: (page size of 4096 bytes)\nPages wired down:  10.\nAnonymous pages:  5.\n";
    expect(parseVmStatUsed(text)).toBe(15 * 4096);
  });

  test("sysctl vm.swapusage in bytes", () => {
    expect(parseSwapUsage(testData("darwin", "sysctl-swapusage.txt"))).toEqual({
      totalBytes: 3072 * 1024 ** 2,
      usedBytes: 2094.25 * 1024 ** 2,
    });
    expect(parseSwapUsage("vm.swapusage: total = 0.00M  used = 0.00M  free = 0.00M  (encrypted)")).toEqual({
      totalBytes: 0,
      usedBytes: 0,
    });
  });
});

describe("darwin network and disk parsers", () => {
  test("netstat -ibn: link rows of interfaces that are up, loopback skipped", () => {
    const counters = parseNetstatIbn(testData("darwin", "netstat-ibn.1.txt"));
    expect(counters.map((c) => c.name)).toEqual([
      "anpi1",
      "anpi0",
      "en3",
      "en4",
      "en1",
      "en2",
      "en0",
      "bridge0",
      "awdl0",
      "llw0",
      "utun0",
      "utun1",
    ]);
    expect(counters.find((c) => c.name === "en0")).toEqual({ name: "en0", inBytes: 15274862921, outBytes: 698514532 });
    expect(counters.find((c) => c.name === "utun0")).toEqual({ name: "utun0", inBytes: 0, outBytes: 380 });
  });

  test("netstat rates between snapshots two seconds apart", () => {
    const prev = new Map(parseNetstatIbn(testData("darwin", "netstat-ibn.1.txt")).map((c) => [c.name, c]));
    const rates = ratesBetween(prev, parseNetstatIbn(testData("darwin", "netstat-ibn.2.txt")), 2);
    expect(rates.find((r) => r.name === "en0")).toEqual({ name: "en0", inBps: 1210720, outBps: 94224 });
    expect(rates.find((r) => r.name === "utun0")).toEqual({ name: "utun0", inBps: 92, outBps: 76 });
  });

  test("ioreg block storage: bytes summed over drivers", () => {
    expect(parseIoregDiskBytes(testData("darwin", "ioreg-blockstorage.1.txt"))).toEqual({
      name: "all",
      inBytes: 512617451520 + 73916416,
      outBytes: 418624299008 + 1589248,
    });
  });

  test("ioreg rates between snapshots two seconds apart", () => {
    const prev = parseIoregDiskBytes(testData("darwin", "ioreg-blockstorage.1.txt"));
    const [rate] = ratesBetween(new Map([["all", prev]]), [parseIoregDiskBytes(testData("darwin", "ioreg-blockstorage.2.txt"))], 2);
    expect(rate).toEqual({ name: "all", inBps: 10 * 1024 ** 2, outBps: 5 * 1024 ** 2 });
  });

  test("mount: local browsable volumes, spaces in mount points kept", () => {
    expect(parseMacMount(testData("darwin", "mount.txt"))).toEqual([
      { device: "/dev/disk3s1s1", mount: "/", fs: "apfs" },
      { device: "/dev/disk5s1", mount: "/Volumes/Backup Drive", fs: "apfs" },
      { device: "/dev/disk6s1", mount: "/Volumes/USB STICK", fs: "msdos" },
      { device: "/dev/disk7s1", mount: "/Volumes/Google Chrome", fs: "hfs" },
    ]);
  });

  test("ps -A -o pid= line count is the process count", () => {
    expect(countLines(testData("darwin", "ps-pids.txt"))).toBe(80);
  });
});

describe("darwin facts", () => {
  test("sw_vers and the ioreg serial", () => {
    expect(parseSwVers(testData("darwin", "sw_vers.txt"))).toEqual({ osName: "macOS", osVersion: "14.4.1 (23E224)" });
    expect(parseIoregSerial(testData("darwin", "ioreg-platform.txt"))).toBe("FVFGH2ABQ6L4");
    expect(parseIoregSerial("+-o Root\n")).toBe("");
  });

  test("assembled facts pass DeviceFacts validation", () => {
    const facts = darwinFacts(
      {
        hostname: "alices-mbp",
        os: "darwin",
        kernel: "23.4.0",
        arch: "arm64",
        cpuModel: "Apple M1 Pro",
        cpuCores: 10,
        memoryTotalBytes: 17179869184,
        nics: [{ name: "en0", mac: "38:f9:d3:5b:20:17", addresses: ["192.168.1.42"] }],
      },
      testData("darwin", "sw_vers.txt"),
      testData("darwin", "ioreg-platform.txt"),
      [{ name: "disk0", sizeBytes: 1000555581440, model: "APPLE SSD AP1024R" }],
    );
    expectValid(DeviceFacts(facts));
    expect(facts.serialNumber).toBe("FVFGH2ABQ6L4");
    expect(facts.osVersion).toBe("14.4.1 (23E224)");
  });
});

describe("darwin service plan", () => {
  test("LaunchDaemon plist with label, program arguments and KeepAlive", () => {
    const plan = darwin.installService(paths);
    const plist = plan.files[0];
    expect(plist?.path).toBe("/Library/LaunchDaemons/com.sentpulse.agent.plist");
    expect(plist?.mode).toBe(0o644);
    expect(plist?.content).toContain("<key>Label</key>\n  <string>com.sentpulse.agent</string>");
    expect(plist?.content).toContain("<key>KeepAlive</key>\n  <true/>");
    expect(plist?.content).toContain("<key>RunAtLoad</key>\n  <true/>");
    expect(plist?.content).toContain(
      [
        "    <string>/usr/local/bin/sentpulse-agent</string>",
        "    <string>run</string>",
        "    <string>--config</string>",
        "    <string>/Library/Application Support/SENTpulse/agent.json</string>",
      ].join("\n"),
    );
    expect(plan.commands).toEqual([
      ["launchctl", "enable", "system/com.sentpulse.agent"],
      ["launchctl", "bootstrap", "system", LAUNCHD_PLIST_PATH],
    ]);
  });

  test("XML special characters in paths are escaped", () => {
    expect(launchdPlist({ binaryPath: "/opt/a&b/<agent>", configPath: "/c.json" })).toContain(
      "<string>/opt/a&amp;b/&lt;agent&gt;</string>",
    );
  });

  test("uninstall removes the plist, then boots the daemon out", () => {
    expect(darwin.uninstallService(paths).commands).toEqual([
      ["rm", "-f", LAUNCHD_PLIST_PATH],
      ["launchctl", "bootout", "system/com.sentpulse.agent"],
    ]);
  });
});

describe("darwin power and paths", () => {
  test("shutdown argv", () => {
    expect(darwin.powerCommand("reboot", { delaySeconds: 300 })).toEqual(["shutdown", "-r", "+5"]);
    expect(darwin.powerCommand("shutdown", { delaySeconds: 0, message: "Bye" })).toEqual(["shutdown", "-h", "now", "Bye"]);
  });

  test("default config path", () => {
    expect(darwin.defaultConfigPath()).toBe("/Library/Application Support/SENTpulse/agent.json");
  });
});
