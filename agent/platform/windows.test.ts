import { describe, expect, test } from "bun:test";
import { DeviceFacts } from "../../server/protocol/telemetry.ts";
import { ratesBetween } from "../collectors/rate.ts";
import { commonFacts } from "./facts-common.ts";
import { expectValid, testData } from "../test-data/helpers.ts";
import { windows, windowsQuote, windowsServiceCommandLine } from "./windows.ts";
import { FACTS_SCRIPT, parseFactsOutput, parseTelemetryOutput, powershellArgv, UnexpectedOutputError } from "./windows-query.ts";

const paths = {
  binaryPath: "C:\\Program Files\\SENTpulse\\sentpulse-agent.exe",
  configPath: "C:\\ProgramData\\SENTpulse\\agent.json",
};

describe("windows telemetry script output", () => {
  test("counters, process count, volumes and page files", () => {
    const c = parseTelemetryOutput(testData("windows", "telemetry.1.json"));
    expect(c.interfaces[0]).toEqual({ name: "Ethernet", inBytes: 48213988112, outBytes: 5120448817 });
    expect(c.interfaces.map((i) => i.name)).toEqual(["Ethernet", "Wi-Fi", "vEthernet (WSL (Hyper-V firewall))"]);
    expect(c.disk).toEqual({ name: "_Total", inBytes: 219918471680, outBytes: 341280563712 });
    expect(c.processCount).toBe(187);
    expect(c.mounts).toEqual([
      { mount: "C:", fs: "NTFS", totalBytes: 511137230848, usedBytes: 511137230848 - 187456413696 },
      { mount: "D:", fs: "NTFS", totalBytes: 1000202039296, usedBytes: 1000202039296 - 622431703040 },
    ]);
    expect(c.swapTotalBytes).toBe(4864 * 1024 * 1024);
    expect(c.swapUsedBytes).toBe(612 * 1024 * 1024);
  });

  test("rates between snapshots five seconds apart", () => {
    const a = parseTelemetryOutput(testData("windows", "telemetry.1.json"));
    const b = parseTelemetryOutput(testData("windows", "telemetry.2.json"));
    const net = ratesBetween(new Map(a.interfaces.map((i) => [i.name, i])), b.interfaces, 5);
    expect(net[0]).toEqual({ name: "Ethernet", inBps: 2_500_000, outBps: 200_000 });
    const [disk] = ratesBetween(new Map([[a.disk.name, a.disk]]), [b.disk], 5);
    expect(disk).toEqual({ name: "_Total", inBps: 10 * 1024 ** 2, outBps: 5 * 1024 ** 2 });
  });

  test("output that is not JSON or lacks a field throws a coded error", () => {
    expect(() => parseTelemetryOutput("Get-CimInstance : Access denied")).toThrow(UnexpectedOutputError);
    expect(() => parseTelemetryOutput('{"net":[],"disk":[],"system":[],"volumes":[]}')).toThrow(/pagefiles/);
  });
});

describe("windows facts", () => {
  test("workstation: edition, version, serial, disks named without the \\\\.\\ prefix", () => {
    expect(parseFactsOutput(testData("windows", "facts.json"))).toEqual({
      osName: "Microsoft Windows 11 Pro",
      osVersion: "10.0.22631",
      serialNumber: "PF3Z8K2M",
      disks: [
        { name: "PHYSICALDRIVE0", sizeBytes: 1000202273280, model: "Samsung SSD 980 PRO 1TB" },
        { name: "PHYSICALDRIVE1", sizeBytes: 2000396321280, model: "WDC WD20EZBX-00AYRA0" },
      ],
    });
  });

  test("white box: placeholder serial becomes empty, caption trimmed, unknown disk size is 0", () => {
    const f = parseFactsOutput(testData("windows", "facts-whitebox.json"));
    expect(f.serialNumber).toBe("");
    expect(f.osName).toBe("Microsoft Windows Server 2022 Standard");
    expect(f.disks).toEqual([{ name: "PHYSICALDRIVE0", sizeBytes: 0 }]);
  });

  test("assembled facts pass DeviceFacts validation", () => {
    expectValid(DeviceFacts({ ...commonFacts("windows"), ...parseFactsOutput(testData("windows", "facts.json")) }));
  });
});

describe("powershell invocation", () => {
  test("the script travels as UTF-16LE base64 after a UTF-8 output preamble", () => {
    const argv = powershellArgv(FACTS_SCRIPT);
    expect(argv.slice(0, 7)).toEqual([
      "powershell.exe",
      "-NoLogo",
      "-NoProfile",
      "-NonInteractive",
      "-ExecutionPolicy",
      "Bypass",
      "-EncodedCommand",
    ]);
    const decoded = Buffer.from(argv[7] ?? "", "base64").toString("utf16le");
    expect(decoded).toBe(`[Console]::OutputEncoding=[Text.Encoding]::UTF8\n${FACTS_SCRIPT}`);
  });
});

describe("windows service plan", () => {
  test("sc.exe create with the binary quoted inside binPath, auto start, restart on failure", () => {
    const plan = windows.installService(paths);
    expect(plan.files).toEqual([]);
    expect(plan.commands[0]).toEqual([
      "sc.exe",
      "create",
      "SENTpulseAgent",
      "binPath=",
      '"C:\\Program Files\\SENTpulse\\sentpulse-agent.exe" run --config C:\\ProgramData\\SENTpulse\\agent.json',
      "start=",
      "auto",
      "DisplayName=",
      "SENTpulse Agent",
    ]);
    expect(plan.commands).toContainEqual([
      "sc.exe",
      "failure",
      "SENTpulseAgent",
      "reset=",
      "86400",
      "actions=",
      "restart/5000/restart/5000/restart/5000",
    ]);
    expect(plan.commands).toContainEqual(["sc.exe", "failureflag", "SENTpulseAgent", "1"]);
    expect(plan.commands.at(-1)).toEqual(["sc.exe", "start", "SENTpulseAgent"]);
  });

  test("a config path with spaces is quoted too", () => {
    expect(windowsServiceCommandLine({ binaryPath: "C:\\a\\agent.exe", configPath: "D:\\My Config\\agent.json" })).toBe(
      '"C:\\a\\agent.exe" run --config "D:\\My Config\\agent.json"',
    );
  });

  test("command-line quoting follows CommandLineToArgvW", () => {
    expect(windowsQuote("plain")).toBe("plain");
    expect(windowsQuote("")).toBe('""');
    expect(windowsQuote("C:\\dir with space\\")).toBe('"C:\\dir with space\\\\"');
    expect(windowsQuote('say "hi"')).toBe('"say \\"hi\\""');
  });

  test("uninstall deletes then stops the service", () => {
    expect(windows.uninstallService(paths).commands).toEqual([
      ["sc.exe", "delete", "SENTpulseAgent"],
      ["sc.exe", "stop", "SENTpulseAgent"],
    ]);
  });
});

describe("windows power and paths", () => {
  test("shutdown.exe argv with delay in seconds and a comment", () => {
    expect(windows.powerCommand("reboot", { delaySeconds: 60, message: "Updates installed" })).toEqual([
      "shutdown.exe",
      "/r",
      "/f",
      "/t",
      "60",
      "/c",
      "Updates installed",
    ]);
    expect(windows.powerCommand("shutdown", { delaySeconds: 0 })).toEqual(["shutdown.exe", "/s", "/f", "/t", "0"]);
  });

  test("delay capped at ten years and comment at 512 characters", () => {
    const argv = windows.powerCommand("reboot", { delaySeconds: 1e12, message: "x".repeat(600) });
    expect(argv[4]).toBe("315360000");
    expect(argv[6]).toHaveLength(512);
  });

  test("default config path", () => {
    expect(windows.defaultConfigPath()).toBe("C:\\ProgramData\\SENTpulse\\agent.json");
  });
});
