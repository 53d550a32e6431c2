import { createLinuxCollector } from "./linux-collector.ts";
import { linuxFacts } from "./linux-facts.ts";
import { unixShutdownArgs } from "./power.ts";
import type { Platform, ServicePaths, ServicePlan } from "./types.ts";

/** systemd unit name and where the unit file is installed. */
const SYSTEMD_UNIT = "sentpulse-agent.service";
export const SYSTEMD_UNIT_PATH = `/etc/systemd/system/${SYSTEMD_UNIT}`;

/**
 * Quotes one ExecStart argument for systemd: plain words stay bare; others are double-quoted with
 * `\` and `"` escaped. `%` and `$` are doubled because systemd expands specifiers and variables.
 */
export function systemdQuote(arg: string): string {
  const escaped = arg.replace(/%/g, "%%").replace(/\$/g, "$$$$");
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped) ? escaped : `"${escaped.replace(/[\\"]/g, "\\$&")}"`;
}

/** The systemd unit: start after the network is up, restart 5 s after any exit, forever. */
export function systemdUnit(o: ServicePaths): string {
  const exec = [o.binaryPath, "run", "--config", o.configPath].map(systemdQuote).join(" ");
  return `[Unit]
Description=SENTpulse agent
Wants=network-online.target
After=network-online.target
StartLimitIntervalSec=0

[Service]
Type=simple
ExecStart=${exec}
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
`;
}

/** Writes the unit, reloads systemd, then enables and starts the service. */
function linuxInstallPlan(o: ServicePaths): ServicePlan {
  return {
    files: [{ path: SYSTEMD_UNIT_PATH, content: systemdUnit(o), mode: 0o644 }],
    commands: [
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", SYSTEMD_UNIT],
    ],
  };
}

/** Stops and disables the service, deletes the unit file, reloads systemd. */
function linuxUninstallPlan(): ServicePlan {
  return {
    files: [],
    commands: [
      ["systemctl", "disable", "--now", SYSTEMD_UNIT],
      ["rm", "-f", SYSTEMD_UNIT_PATH],
      ["systemctl", "daemon-reload"],
    ],
  };
}

/** The Linux platform: /proc collector, systemd service, shutdown(8) power actions. */
export const linux: Platform = {
  os: "linux",
  createCollector: createLinuxCollector,
  facts: async () => linuxFacts(),
  defaultConfigPath: () => "/etc/sentpulse/agent.json",
  installService: linuxInstallPlan,
  uninstallService: linuxUninstallPlan,
  powerCommand: (action, o) => unixShutdownArgs(action === "reboot" ? "-r" : "-P", o),
  toolbox: () => import("./linux-toolbox.ts").then((m) => m.linuxToolbox),
  releasePages: (how) => import("./linux-pages.ts").then((m) => m.releaseExecutablePages(how)),
  patch: () => import("./linux-patch.ts").then((m) => m.linuxPatch),
};
