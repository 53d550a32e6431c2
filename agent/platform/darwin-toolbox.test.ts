import { describe, expect, test } from "bun:test";
import { XPROTECT_VERSION, launchctlActionArgv, logShowArgv, parseEtime, parsePrintDisabled } from "./darwin-toolbox.ts";

/**
 * macOS command construction. No recorded `launchctl list`, `ps` or `log show --style ndjson` output
 * was found in public repositories, so those parsers wait for one; the two one-line inputs below
 * (elapsed times, print-disabled lines) are written to launchctl(1)'s and ps(1)'s documented forms.
 */
describe("macOS toolbox commands", () => {
  test("launchctl acts on the system domain's job by label", () => {
    expect(launchctlActionArgv("com.example.backup", "start")).toEqual(["launchctl", "kickstart", "system/com.example.backup"]);
    expect(launchctlActionArgv("com.example.backup", "restart")).toEqual(["launchctl", "kickstart", "-k", "system/com.example.backup"]);
    expect(launchctlActionArgv("com.example.backup", "stop")).toEqual(["launchctl", "kill", "SIGTERM", "system/com.example.backup"]);
    expect(launchctlActionArgv("com.example.backup", "disable")).toEqual(["launchctl", "disable", "system/com.example.backup"]);
  });

  test("log show: NDJSON over the last hour by default, a predicate from the level, text and process", () => {
    const now = Date.parse("2026-12-01T12:00:00Z");
    expect(logShowArgv({ level: "error", limit: 50, q: "disk full", unit: "backupd" }, now)).toEqual([
      "log",
      "show",
      "--style",
      "ndjson",
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
