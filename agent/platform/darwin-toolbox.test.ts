import { describe, expect, test } from "bun:test";
import { testData } from "../test-data/helpers.ts";
import {
  XPROTECT_VERSION,
  launchctlActionArgv,
  logShowArgv,
  logShowEvents,
  parseEtime,
  parseLaunchctlList,
  parseLogShow,
  parsePmsetBatt,
  parsePrintDisabled,
} from "./darwin-toolbox.ts";

const sample = (name: string) => testData("darwin", `toolbox/${name}`);

/**
 * macOS command construction, and the parsers of `launchctl list` and `log show --style json` on real
 * output found in public repositories (agent/test-data/darwin/toolbox/README.md). No recorded `ps`
 * output was found; the two one-line inputs at the end (elapsed times, print-disabled lines) are
 * written to ps(1)'s and launchctl(1)'s documented forms.
 */
describe("macOS parsers on recorded output", () => {
  test("launchctl list: running jobs by pid (status '-'), stopped ones by exit status 0", () => {
    const items = parseLaunchctlList(sample("launchctl-list-darling.txt"), new Set(["com.apple.newsyslog"]));
    expect(items).toHaveLength(18);
    expect(items.find((s) => s.name === "com.apple.syslogd")).toEqual({
      name: "com.apple.syslogd",
      displayName: "com.apple.syslogd",
      description: "",
      state: "running",
      startup: "unknown",
      pid: 22,
    });
    expect(items.find((s) => s.name === "com.apple.periodic-daily")).toMatchObject({ state: "stopped", pid: null });
    expect(items.find((s) => s.name === "com.apple.newsyslog")).toMatchObject({ startup: "disabled" });
    expect(items.filter((s) => s.state === "running")).toHaveLength(11);
  });

  test("log show --style json: log's notices before the array are skipped; level, subsystem, pid, time", () => {
    expect(parseLogShow(sample("log-show-style-json.txt"), 50)).toEqual({
      source: "unified",
      items: [
        {
          time: Date.parse("2018-06-10T08:47:50.829-07:00"),
          level: "warning",
          source: "os_log_inlinable",
          message: "Hello, World!",
          pid: 95957,
        },
      ],
      more: false,
    });
  });

  test("pmset -g batt: charge and state of the internal battery in four recorded states", () => {
    const outputs = sample("pmset-g-batt-four-states.txt").split("\n\n");
    expect(outputs.map((o) => parsePmsetBatt(o))).toEqual(
      (
        [
          ["charged", 100],
          ["AC attached", 79],
          ["charging", 78],
          ["discharging", 100],
        ] as const
      ).map(([status, chargePercent]) => [{ name: "InternalBattery-0", status, chargePercent, healthPercent: null, cycleCount: null }]),
    );
    expect(parsePmsetBatt("Now drawing from 'AC Power'\n")).toEqual([]); // a desktop Mac
  });

  test("output cut at the byte bound keeps the whole events before the cut", () => {
    const one = sample("log-show-style-json.txt");
    const event = one.slice(one.indexOf("[{") + 1, one.lastIndexOf("}]") + 1);
    const cut = `[${event},${event},${event.slice(0, 120)}`;
    expect(logShowEvents(cut)).toHaveLength(2);
    expect(logShowEvents("log: Could not open local log store")).toEqual([]);
  });
});

describe("macOS toolbox commands", () => {
  test("launchctl acts on the system domain's job by label", () => {
    expect(launchctlActionArgv("com.example.backup", "start")).toEqual(["launchctl", "kickstart", "system/com.example.backup"]);
    expect(launchctlActionArgv("com.example.backup", "restart")).toEqual(["launchctl", "kickstart", "-k", "system/com.example.backup"]);
    expect(launchctlActionArgv("com.example.backup", "stop")).toEqual(["launchctl", "kill", "SIGTERM", "system/com.example.backup"]);
    expect(launchctlActionArgv("com.example.backup", "disable")).toEqual(["launchctl", "disable", "system/com.example.backup"]);
  });

  test("log show: JSON over the last hour by default, a predicate from the level, text and process", () => {
    const now = Date.parse("2026-12-01T12:00:00Z");
    expect(logShowArgv({ level: "error", limit: 50, q: "disk full", unit: "backupd" }, now)).toEqual([
      "log",
      "show",
      "--style",
      "json",
      "--start",
      "2026-12-01 11:00:00+0000",
      "--predicate",
      '(messageType == error OR messageType == fault) AND eventMessage CONTAINS[c] "disk full" AND process == "backupd"',
    ]);
    const info = logShowArgv({ level: "info", limit: 50, since: now - 60_000, until: now }, now);
    expect(info).toContain("--info");
    expect(info.slice(info.indexOf("--end"), info.indexOf("--end") + 2)).toEqual(["--end", "2026-12-01 12:00:00+0000"]);
  });

  test("ps elapsed times and print-disabled lines", () => {
    expect(parseEtime("05:07")).toBe(307);
    expect(parseEtime("02:05:07")).toBe(7507);
    expect(parseEtime("3-02:05:07")).toBe(3 * 86400 + 7507);
    expect(parseEtime("garbage")).toBe(0);
    expect(
      parsePrintDisabled('disabled services = {\n\t"com.apple.ftpd" => disabled\n\t"com.apple.smbd" => enabled\n\t"org.x" => true\n}'),
    ).toEqual(new Set(["com.apple.ftpd", "org.x"]));
  });

  test("XProtect's version is read from its bundle with defaults(1)", () => {
    expect(XPROTECT_VERSION).toEqual([
      "defaults",
      "read",
      "/Library/Apple/System/Library/CoreServices/XProtect.bundle/Contents/Info",
      "CFBundleShortVersionString",
    ]);
  });
});
