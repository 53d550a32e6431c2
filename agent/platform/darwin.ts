import type { DeviceFacts } from "../../server/protocol/telemetry.ts";
import { createDarwinCollector } from "./darwin-collector.ts";
import { parseIoregSerial, parseSwVers } from "./darwin-parse.ts";
import { runCommand } from "./exec.ts";
import { type CommonFacts, cleanSerial, clip, commonFacts } from "./facts-common.ts";
import { unixShutdownArgs } from "./power.ts";
import type { Platform, ServicePaths, ServicePlan } from "./types.ts";

/** launchd label and where the LaunchDaemon plist is installed. */
const LAUNCHD_LABEL = "com.sentpulse.agent";
export const LAUNCHD_PLIST_PATH = `/Library/LaunchDaemons/${LAUNCHD_LABEL}.plist`;

/** Escapes text for an XML element body. */
function xmlEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** The LaunchDaemon: start at boot, restart whenever it exits (at most every 10 s), log to /var/log. */
export function launchdPlist(o: ServicePaths): string {
  const args = [o.binaryPath, "run", "--config", o.configPath].map((a) => `    <string>${xmlEscape(a)}</string>`).join("\n");
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>${LAUNCHD_LABEL}</string>
  <key>ProgramArguments</key>
  <array>
${args}
  </array>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <true/>
  <key>ThrottleInterval</key>
  <integer>10</integer>
  <key>StandardOutPath</key>
  <string>/var/log/sentpulse-agent.log</string>
  <key>StandardErrorPath</key>
  <string>/var/log/sentpulse-agent.log</string>
</dict>
</plist>
`;
}

/** Writes the plist (root-owned files in LaunchDaemons must not be group/world writable) and loads it. */
function darwinInstallPlan(o: ServicePaths): ServicePlan {
  return {
    files: [{ path: LAUNCHD_PLIST_PATH, content: launchdPlist(o), mode: 0o644 }],
    commands: [
      ["launchctl", "enable", `system/${LAUNCHD_LABEL}`],
      ["launchctl", "bootstrap", "system", LAUNCHD_PLIST_PATH],
    ],
  };
}

/** Deletes the plist, then unloads the daemon (last, because it fails when the daemon is not loaded). */
function darwinUninstallPlan(): ServicePlan {
  return {
    files: [],
    commands: [
      ["rm", "-f", LAUNCHD_PLIST_PATH],
      ["launchctl", "bootout", `system/${LAUNCHD_LABEL}`],
    ],
  };
}

/** Combines the `os` facts with sw_vers, the ioreg serial and the disk list into wire facts. */
export function darwinFacts(common: CommonFacts, swVers: string, ioregPlatform: string, disks: DeviceFacts["disks"]): DeviceFacts {
  const { osName, osVersion } = parseSwVers(swVers);
  return {
    ...common,
    osName: clip(osName, 128),
    osVersion: clip(osVersion, 128),
    serialNumber: cleanSerial(parseIoregSerial(ioregPlatform)),
    disks,
  };
}

/** Physical disks via systeminformation (system_profiler, slow), loaded only when asked for. */
async function readDisks(): Promise<DeviceFacts["disks"]> {
  const { default: si } = await import("systeminformation");
  const layout = await si.diskLayout();
  return layout.slice(0, 64).map((d) => ({
    name: clip(d.device || d.name, 128),
    sizeBytes: Math.max(0, d.size),
    model: clip(d.name, 128),
  }));
}

/** The macOS platform: command-based collector, LaunchDaemon service, shutdown(8) power actions. */
export const darwin: Platform = {
  os: "darwin",
  createCollector: createDarwinCollector,
  facts: async () => {
    const [swVers, ioreg, disks] = await Promise.all([
      runCommand(["/usr/bin/sw_vers"]),
      runCommand(["/usr/sbin/ioreg", "-rd1", "-c", "IOPlatformExpertDevice"]),
      readDisks(),
    ]);
    return darwinFacts(commonFacts("darwin"), swVers, ioreg, disks);
  },
  defaultConfigPath: () => "/Library/Application Support/SENTpulse/agent.json",
  installService: darwinInstallPlan,
  uninstallService: darwinUninstallPlan,
  powerCommand: (action, o) => unixShutdownArgs(action === "reboot" ? "-r" : "-h", o),
  toolbox: () => import("./darwin-toolbox.ts").then((m) => m.darwinToolbox),
  patch: () => import("./darwin-patch.ts").then((m) => m.darwinPatch),
};
