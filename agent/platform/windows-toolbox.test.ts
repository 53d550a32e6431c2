import { describe, expect, test } from "bun:test";
import { testData } from "../test-data/helpers.ts";
import {
  DEFENDER_SCRIPT,
  ENVIRONMENT_SCRIPT,
  EVENTS_SCRIPT,
  HARDWARE_SCRIPT,
  PROCESSES_SCRIPT,
  SECURITY_CENTER_SCRIPT,
  SERVICES_SCRIPT,
  eventsEnv,
  parseDefender,
  parseFormatList,
  parseWindowsEvents,
  parseWindowsServices,
  psDate,
  serviceActionScript,
  taskkillArgv,
} from "./windows-toolbox.ts";

const sample = (name: string) => testData("windows", `toolbox/${name}`);

/**
 * Windows command construction, and the parsers on the real outputs found in public repositories
 * (agent/test-data/windows/toolbox/README.md). No real `Get-Service | ConvertTo-Json`, Win32_Service
 * or thermal-zone / battery CIM output was found, so those parsers are not tested on invented ones.
 */
describe("Windows parsers on recorded output", () => {
  test("Get-MpComputerStatus (Format-List): enabled, real-time, version; age from AntivirusSignatureAge", () => {
    const now = Date.parse("2013-07-30T12:00:00Z");
    const text = sample("get-mpcomputerstatus.txt");
    expect(parseFormatList(text).get("ComputerID")).toBe("A69DA5B8-06B3-4A00-B2C1-D18ED66BAD40");
    expect(parseDefender(text, now)).toEqual({
      product: "Microsoft Defender Antivirus",
      enabled: true,
      realTime: true,
      definitions: "1.155.1107.0",
      definitionsUpdatedAt: now,
      outdated: false,
    });
    // the same machine four days later with no update: AntivirusSignatureAge 4 → outdated
    const stale = text.replace(/^AntivirusSignatureAge(\s+):\s*0$/m, "AntivirusSignatureAge$1: 4");
    expect(parseDefender(stale, now)).toMatchObject({ definitionsUpdatedAt: now - 4 * 86_400_000, outdated: true });
    // real-time protection switched off by a user
    const off = text.replace(/^RealTimeProtectionEnabled(\s+):\s*True$/m, "RealTimeProtectionEnabled$1: False");
    expect(parseDefender(off, now)).toMatchObject({ enabled: true, realTime: false });
    expect(parseDefender("Get-MpComputerStatus : Invalid class", now)).toBeUndefined();
  });

  test("Get-Service | ConvertTo-Json (Windows PowerShell 5.1): Status as a number, 4 running, 1 stopped", () => {
    const items = parseWindowsServices(sample("get-service-select-json.json"));
    expect(items).toHaveLength(7);
    expect(items.find((s) => s.name === "BthHFSrv")).toEqual({
      name: "BthHFSrv",
      displayName: "Bluetooth Handsfree Service",
      description: "",
      state: "stopped",
      startup: "unknown", // not selected in this output
      pid: null,
    });
    expect(items.filter((s) => s.state === "running").map((s) => s.name)).toEqual([
      "BITS",
      "Bluetooth Device Monitor",
      "Bluetooth OBEX Service",
      "BrokerInfrastructure",
      "Browser",
      "bthserv",
    ]);
  });

  test("Get-WinEvent | ConvertTo-Json (Windows PowerShell 5.1): one event with its /Date(ms)/ time", () => {
    expect(parseWindowsEvents(sample("get-winevent-system-one-event.json"), 50)).toEqual({
      source: "windows",
      items: [
        {
          time: 1595374458918,
          level: "info",
          source: "Microsoft-Windows-Hyper-V-Netvsc",
          message: "Miniport NIC 'Microsoft Hyper-V Network Adapter #3' disconnected",
          eventId: 13,
          pid: 3360,
        },
      ],
      more: false,
    });
    expect(psDate("2020-07-21T23:34:18.918+00:00")).toBe(1595374458918); // PowerShell 7 writes ISO 8601
    expect(psDate(null)).toBe(0);
  });
});

describe("Windows toolbox commands", () => {
  test("taskkill: the pid as its own argument, /T only for the tree, always /F", () => {
    expect(taskkillArgv(4242, false)).toEqual(["taskkill.exe", "/PID", "4242", "/F"]);
    expect(taskkillArgv(4242, true)).toEqual(["taskkill.exe", "/PID", "4242", "/T", "/F"]);
  });

  test("service actions read the name from $env:SP_NAME, never from their text; exit 3 when there is no such service", () => {
    for (const action of ["start", "stop", "restart", "enable", "disable"] as const) {
      const script = serviceActionScript(action);
      expect(script).toContain("-Name $env:SP_NAME");
      expect(script).toContain("exit 3");
    }
    expect(serviceActionScript("disable")).toContain("-StartupType Disabled");
    expect(serviceActionScript("enable")).toContain("-StartupType Automatic");
    // the CIM filter quotes the name for WQL by doubling single quotes
    expect(serviceActionScript("start")).toContain(`$env:SP_NAME.Replace("'", "''")`);
  });

  test("a list of named services filters by name or display name from $env:SP_NAMES, never from the script's text", () => {
    expect(SERVICES_SCRIPT).toContain('$env:SP_NAMES -split "`n"');
    expect(SERVICES_SCRIPT).toContain("$names -contains $_.Name -or $names -contains $_.DisplayName");
  });

  test("event queries travel in environment variables: log, levels 1-2 / 1-3 / 0-4, bounds, literal text", () => {
    expect(eventsEnv({ level: "warning", limit: 100, since: 1_700_000_000_000, q: "disk 50% full", log: "Application" })).toEqual({
      SP_LOG: "Application",
      SP_LEVELS: "1,2,3",
      SP_LIMIT: "100",
      SP_SINCE: "1700000000000",
      SP_UNTIL: "",
      SP_SOURCE: "",
      SP_Q: "disk 50% full",
    });
    expect(eventsEnv({ level: "error", limit: 5 }).SP_LOG).toBe("System");
    expect(EVENTS_SCRIPT).toContain("[Management.Automation.WildcardPattern]::Escape($env:SP_Q)");
  });

  test("every script prints JSON and takes no input in its text", () => {
    expect(DEFENDER_SCRIPT).toBe("Get-MpComputerStatus -ErrorAction Stop | Format-List");
    expect(EVENTS_SCRIPT).toContain("Select-Object Id,Level,ProviderName,ProcessId,TimeCreated,Message");
    for (const s of [PROCESSES_SCRIPT, SERVICES_SCRIPT, EVENTS_SCRIPT, ENVIRONMENT_SCRIPT, SECURITY_CENTER_SCRIPT, HARDWARE_SCRIPT]) {
      expect(s).toContain("ConvertTo-Json -Compress");
      expect(s).not.toMatch(/\$\{|`\$/);
    }
  });
});
