import { describe, expect, test } from "bun:test";
import {
  ANTIVIRUS_SCRIPT,
  ENVIRONMENT_SCRIPT,
  EVENTS_SCRIPT,
  PROCESSES_SCRIPT,
  SERVICES_SCRIPT,
  eventsEnv,
  serviceActionScript,
  taskkillArgv,
} from "./windows-toolbox.ts";

/**
 * Windows command construction. No recorded Windows output of these scripts (or of `Get-Service |
 * ConvertTo-Json` / `Get-WinEvent`) was found in public repositories, so their parsers wait for one
 * rather than being tested on invented samples.
 */
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
    for (const s of [PROCESSES_SCRIPT, SERVICES_SCRIPT, EVENTS_SCRIPT, ENVIRONMENT_SCRIPT, ANTIVIRUS_SCRIPT]) {
      expect(s).toContain("ConvertTo-Json -Compress");
      expect(s).not.toMatch(/\$\{|`\$/);
    }
  });
});
