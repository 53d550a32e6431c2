import { runCommand } from "./exec.ts";
import { commonFacts } from "./facts-common.ts";
import { windowsShutdownArgs } from "./power.ts";
import type { Platform, ServicePaths, ServicePlan } from "./types.ts";
import { createWindowsCollector } from "./windows-collector.ts";
import { FACTS_SCRIPT, parseFactsOutput, powershellArgv } from "./windows-query.ts";

/** Service name as `sc.exe` and the Services console know it. */
const WINDOWS_SERVICE = "SENTpulseAgent";

/** Quotes one argument for a Windows command line (CommandLineToArgvW rules), only when needed. */
export function windowsQuote(arg: string): string {
  if (arg !== "" && !/[\s"]/.test(arg)) return arg;
  return `"${arg.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\+)$/, "$1$1")}"`;
}

/** The service's command line: the binary path quoted, so a path with spaces is not misread. */
export function windowsServiceCommandLine(o: ServicePaths): string {
  return [`"${o.binaryPath}"`, "run", "--config", windowsQuote(o.configPath)].join(" ");
}

/**
 * Creates an auto-start service running as LocalSystem, restarts it 5 s after each failure (also
 * after a non-zero exit, thanks to failureflag), and starts it. `sc.exe` wants `option=` and its
 * value as separate arguments.
 */
function windowsInstallPlan(o: ServicePaths): ServicePlan {
  return {
    files: [],
    commands: [
      ["sc.exe", "create", WINDOWS_SERVICE, "binPath=", windowsServiceCommandLine(o), "start=", "auto", "DisplayName=", "SENTpulse Agent"],
      ["sc.exe", "description", WINDOWS_SERVICE, "SENTpulse remote monitoring and management agent"],
      ["sc.exe", "failure", WINDOWS_SERVICE, "reset=", "86400", "actions=", "restart/5000/restart/5000/restart/5000"],
      ["sc.exe", "failureflag", WINDOWS_SERVICE, "1"],
      ["sc.exe", "start", WINDOWS_SERVICE],
    ],
  };
}

/** Marks the service for deletion, then stops it (last, because stopping fails when it is not running). */
function windowsUninstallPlan(): ServicePlan {
  return {
    files: [],
    commands: [
      ["sc.exe", "delete", WINDOWS_SERVICE],
      ["sc.exe", "stop", WINDOWS_SERVICE],
    ],
  };
}

/** The Windows platform: PowerShell/CIM collector, Service Control Manager service, shutdown.exe. */
export const windows: Platform = {
  os: "windows",
  createCollector: createWindowsCollector,
  facts: async () => ({ ...commonFacts("windows"), ...parseFactsOutput(await runCommand(powershellArgv(FACTS_SCRIPT))) }),
  defaultConfigPath: () => "C:\\ProgramData\\SENTpulse\\agent.json",
  installService: windowsInstallPlan,
  uninstallService: windowsUninstallPlan,
  powerCommand: (action, o) => windowsShutdownArgs(action === "reboot" ? "/r" : "/s", o),
  toolbox: () => import("./windows-toolbox.ts").then((m) => m.windowsToolbox),
  patch: () => import("./windows-patch.ts").then((m) => m.windowsPatch),
};
