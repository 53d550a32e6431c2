import { describe, expect, test } from "bun:test";
import { DeviceFacts, TelemetrySample } from "../../server/protocol/telemetry.ts";
import { expectValid, testData } from "../test-data/helpers.ts";
import { linux, SYSTEMD_UNIT_PATH, systemdQuote, systemdUnit } from "./linux.ts";
import { distroFromOsRelease, parseOsRelease } from "./linux-facts.ts";

const paths = { binaryPath: "/usr/local/bin/sentpulse-agent", configPath: "/etc/sentpulse/agent.json" };

describe("linux collector on this machine", () => {
  test("two samples 200 ms apart pass TelemetrySample validation", async () => {
    const collector = linux.createCollector();
    const first = await collector.collect();
    expectValid(TelemetrySample(first));
    await Bun.sleep(200);
    const second = await collector.collect();
    expectValid(TelemetrySample(second));
    expect(second.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(second.cpuPercent).toBeLessThanOrEqual(100);
    expect(second.cpuPerCore.length).toBe(navigator.hardwareConcurrency);
    expect(second.memoryUsedBytes).toBeGreaterThan(0);
    expect(second.memoryUsedBytes).toBeLessThan(second.memoryTotalBytes);
    expect(second.mounts.length).toBeGreaterThanOrEqual(1);
    expect(second.mounts.some((m) => m.mount === "/")).toBe(true);
    expect(second.interfaces.some((i) => i.name === "lo")).toBe(false);
    expect(second.uptimeSeconds).toBeGreaterThan(first.uptimeSeconds);
    expect(second.processCount).toBeGreaterThanOrEqual(1);
    expect(Date.parse(second.time)).toBeGreaterThan(Date.parse(first.time));
  });

  test("the first sample reports zero rates", async () => {
    const first = await linux.createCollector().collect();
    expect(first.diskReadBps).toBe(0);
    expect(first.diskWriteBps).toBe(0);
    expect(first.interfaces.every((i) => i.rxBps === 0 && i.txBps === 0)).toBe(true);
  });
});

describe("linux facts", () => {
  test("this machine's facts pass DeviceFacts validation", async () => {
    const facts = await linux.facts();
    expectValid(DeviceFacts(facts));
    expect(facts.os).toBe("linux");
    expect(facts.cpuCores).toBeGreaterThan(0);
    expect(facts.memoryTotalBytes).toBeGreaterThan(0);
    expect(facts.nics.some((n) => n.name === "lo")).toBe(false);
  });

  test("recorded os-release gives distribution name and version", () => {
    expect(distroFromOsRelease(testData("linux", "os-release"))).toEqual({
      osName: "Debian GNU/Linux",
      osVersion: "12 (bookworm)",
    });
  });

  test("os-release quoting: double quotes with escapes, single quotes, bare values, comments", () => {
    const r = parseOsRelease('# comment\nNAME="Some \\"Quoted\\" OS"\nID=some\nVERSION_ID=\'1.2\'\nBAD LINE\n');
    expect(r.get("NAME")).toBe('Some "Quoted" OS');
    expect(r.get("ID")).toBe("some");
    expect(r.get("VERSION_ID")).toBe("1.2");
    expect(r.size).toBe(3);
  });

  test("a rolling release without VERSION falls back to BUILD_ID", () => {
    expect(distroFromOsRelease('NAME="Arch Linux"\nBUILD_ID=rolling\n')).toEqual({ osName: "Arch Linux", osVersion: "rolling" });
  });
});

describe("linux service plan", () => {
  test("unit runs the binary with run --config and restarts always", () => {
    const plan = linux.installService(paths);
    const unit = plan.files[0];
    expect(unit?.path).toBe(SYSTEMD_UNIT_PATH);
    expect(unit?.mode).toBe(0o644);
    expect(unit?.content).toContain("ExecStart=/usr/local/bin/sentpulse-agent run --config /etc/sentpulse/agent.json\n");
    expect(unit?.content).toContain("Restart=always\n");
    expect(unit?.content).toContain("WantedBy=multi-user.target\n");
    expect(plan.commands).toEqual([
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "sentpulse-agent.service"],
    ]);
  });

  test("paths with spaces, quotes, % and $ are quoted for systemd", () => {
    expect(systemdQuote("/opt/my agent/bin")).toBe('"/opt/my agent/bin"');
    expect(systemdQuote('/a"b')).toBe('"/a\\"b"');
    expect(systemdQuote("/srv/100%/$HOME")).toBe('"/srv/100%%/$$HOME"');
    expect(systemdUnit({ binaryPath: "/opt/my agent/a", configPath: "/etc/c.json" })).toContain(
      'ExecStart="/opt/my agent/a" run --config /etc/c.json\n',
    );
  });

  test("uninstall disables, removes the unit and reloads", () => {
    expect(linux.uninstallService(paths)).toEqual({
      files: [],
      commands: [
        ["systemctl", "disable", "--now", "sentpulse-agent.service"],
        ["rm", "-f", SYSTEMD_UNIT_PATH],
        ["systemctl", "daemon-reload"],
      ],
    });
  });
});

describe("linux power and paths", () => {
  test("reboot and shutdown argv with delays rounded up to minutes", () => {
    expect(linux.powerCommand("reboot", { delaySeconds: 90, message: "Patching" })).toEqual(["shutdown", "-r", "+2", "Patching"]);
    expect(linux.powerCommand("shutdown", { delaySeconds: 0 })).toEqual(["shutdown", "-P", "now"]);
    expect(linux.powerCommand("reboot", { delaySeconds: 60 })).toEqual(["shutdown", "-r", "+1"]);
  });

  test("default config path", () => {
    expect(linux.defaultConfigPath()).toBe("/etc/sentpulse/agent.json");
  });
});
