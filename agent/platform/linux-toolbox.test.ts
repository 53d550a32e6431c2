import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { testData } from "../test-data/helpers.ts";
import { journalArgv, literalPattern, parseJournal } from "./linux-journal.ts";
import { parseBootTime, parseCmdline, parsePasswd, parseProcStat, parseProcStatus } from "./linux-procs.ts";
import {
  lsbDescription,
  lsbState,
  parseStatusAll,
  parseSystemdServices,
  parseSystemdShow,
  systemdActionArgv,
  systemdListArgv,
  sysvActionArgv,
  sysvStartup,
} from "./linux-services.ts";
import { parseEtcEnvironment, signalEach } from "./linux-toolbox.ts";

const sample = (name: string) => testData("linux", `toolbox/${name}`);

describe("/proc parsing (recorded on this Debian 12 VM)", () => {
  test("a process whose name holds spaces and parentheses: pid, comm, parent, CPU and start ticks", () => {
    expect(parseProcStat(sample("proc-pid-stat.txt"))).toEqual({
      pid: 26605,
      comm: "my (odd) name",
      ppid: 26564,
      cpuTicks: 0,
      startTicks: 1121493,
    });
    expect(parseProcStatus(sample("proc-pid-status.txt"))).toEqual({ uid: 0, rssBytes: 1752 * 1024 });
    expect(parseCmdline(sample("proc-pid-cmdline.bin"))).toBe("/tmp/my (odd) name 333");
    expect(parseBootTime(sample("proc-stat.txt"))).toBe(1796119568);
  });

  test("a kernel thread: no resident memory, no command line", () => {
    expect(parseProcStat(sample("proc-kthread-stat.txt"))).toMatchObject({ pid: 2, comm: "kthreadd", ppid: 0 });
    expect(parseProcStatus(sample("proc-kthread-status.txt")).rssBytes).toBe(0);
    expect(parseCmdline("")).toBe("");
  });

  test("a truncated or foreign line is skipped, not misread", () => {
    expect(parseProcStat("12 (cut")).toBeUndefined();
    expect(parseProcStat("")).toBeUndefined();
  });

  test("user names from passwd lines", () => {
    expect(parsePasswd("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/:/usr/sbin/nologin\nbroken\n")).toEqual(
      new Map([
        [0, "root"],
        [1, "daemon"],
      ]),
    );
  });
});

describe("SysV init scripts (recorded: `service --status-all`, Debian's /etc/init.d/atd)", () => {
  test("status-all: running, stopped, no status", () => {
    const s = parseStatusAll(sample("service-status-all.txt"));
    expect(s.get("atd")).toBe("running");
    expect(s.get("dbus")).toBe("stopped");
    expect(s.get("hwclock.sh")).toBe("unknown");
    expect(s.size).toBe(7);
  });

  test("the LSB header's short description", () => {
    expect(lsbDescription(sample("init.d-atd"))).toBe("Deferred execution scheduler");
  });

  test("startup from rc links: S → auto, only K → disabled, none → manual; a longer name is not a match", () => {
    expect(sysvStartup("atd", ["S01atd", "S01dbus"])).toBe("auto");
    expect(sysvStartup("atd", ["K01atd"])).toBe("disabled");
    expect(sysvStartup("atd", ["S01atdx", "S01dbus"])).toBe("manual");
  });

  test("LSB status exit codes", () => {
    expect([0, 1, 2, 3, 4, null].map(lsbState)).toEqual(["running", "failed", "failed", "stopped", "unknown", "unknown"]);
  });

  test("actions are argument vectors: service(8), else the script; update-rc.d, else chkconfig", () => {
    const all = () => true;
    expect(sysvActionArgv("atd", "restart", all)).toEqual(["service", "atd", "restart"]);
    expect(sysvActionArgv("atd", "start", () => false)).toEqual(["/etc/init.d/atd", "start"]);
    expect(sysvActionArgv("atd", "disable", all)).toEqual(["update-rc.d", "atd", "disable"]);
    expect(sysvActionArgv("atd", "enable", (p) => p === "chkconfig")).toEqual(["chkconfig", "atd", "on"]);
    expect(() => sysvActionArgv("atd", "enable", () => false)).toThrow("neither update-rc.d nor chkconfig");
  });
});

describe("systemd: list-unit-files recorded here (systemctl --root=/ works without a running manager)", () => {
  test("Debian 12's 123 service unit files: templates left out; enabled and alias → auto, masked and disabled → disabled, static → manual", () => {
    const items = parseSystemdServices("[]", sample("systemctl-list-unit-files.json"));
    expect(items).toHaveLength(123 - 20); // 20 are templates (name@.service)
    expect(items.every((s) => s.state === "stopped" && s.pid === null)).toBe(true); // not loaded: no manager to ask
    const startup = (name: string) => items.find((s) => s.name === name)?.startup;
    expect(startup("atd.service")).toBe("auto");
    expect(startup("smartd.service")).toBe("auto"); // alias of smartmontools.service
    expect(startup("hwclock.service")).toBe("disabled"); // masked
    expect(startup("clamav-freshclam.service")).toBe("disabled");
    expect(startup("apt-daily.service")).toBe("manual"); // static: started by its timer
    expect(items.find((s) => s.name === "autovt@.service")).toBeUndefined();
  });
});

describe("systemd booted in systemd-nspawn (Debian 12, systemd 252): list-units, list-unit-files and show recorded from the running manager", () => {
  test("the running manager's services merge with their unit files: state, startup; not-found units dropped", () => {
    const items = parseSystemdServices(sample("systemctl-list-units-nspawn.json"), sample("systemctl-list-unit-files-nspawn.json"));
    const one = (name: string) => items.find((s) => s.name === name);
    expect(one("cron.service")).toMatchObject({
      displayName: "cron",
      description: "Regular background program processing daemon",
      state: "running",
      startup: "auto",
    });
    expect(one("systemd-journald.service")).toMatchObject({ state: "running", startup: "manual" }); // static
    expect(one("auditd.service")).toBeUndefined(); // load: not-found (wanted by a unit, not installed)
    // active units are running, whether a daemon (sub: running) or a finished oneshot that stays active (sub: exited)
    expect(items.filter((s) => s.state === "running")).toHaveLength(12);
    expect(one("systemd-tmpfiles-setup.service")?.state).toBe("running");
    expect(one("apt-daily.service")?.state).toBe("stopped");
    expect(one("cryptdisks.service")?.startup).toBe("disabled"); // masked
    expect(items.some((s) => s.name.includes("@."))).toBe(false);
  });

  test("named units only (what the health watch asks): the one that exists is listed", () => {
    const items = parseSystemdServices(sample("systemctl-list-units-named-nspawn.json"), "[]");
    expect(items).toMatchObject([{ name: "cron.service", state: "running" }]);
  });

  test("systemctl show of a running, a stopped and a missing unit", () => {
    expect(parseSystemdShow(sample("systemctl-show-cron.txt"))).toMatchObject({ name: "cron.service", state: "running", startup: "auto" });
    expect(parseSystemdShow(sample("systemctl-show-cron-stopped.txt"))).toMatchObject({
      name: "cron.service",
      state: "stopped",
      pid: null,
    });
    expect(parseSystemdShow(sample("systemctl-show-not-found.txt"))).toBeUndefined();
  });
});

describe("systemd list-units and show, edge cases written to systemctl's documented shape", () => {
  test("a list of named units only: each name as given and with .service, after --", () => {
    const { units, files } = systemdListArgv(["cups", "ssh.service"]);
    expect(units.slice(-4)).toEqual(["--", "cups", "cups.service", "ssh.service"]);
    expect(files.slice(-4)).toEqual(["--", "cups", "cups.service", "ssh.service"]);
    expect(systemdListArgv().units).not.toContain("--");
  });

  test("the unit name is an argument after --, never an option", () => {
    expect(systemdActionArgv("nginx.service", "restart")).toEqual(["systemctl", "restart", "--no-pager", "--", "nginx.service"]);
  });

  test("list-units and list-unit-files JSON merge into state and startup; not-found units are dropped", () => {
    const units = JSON.stringify([
      {
        unit: "cron.service",
        load: "loaded",
        active: "active",
        sub: "running",
        description: "Regular background program processing daemon",
      },
      { unit: "ghost.service", load: "not-found", active: "inactive", sub: "dead", description: "ghost.service" },
      { unit: "nginx.service", load: "loaded", active: "failed", sub: "failed", description: "A high performance web server" },
    ]);
    const files = JSON.stringify([
      { unit_file: "cron.service", state: "enabled", preset: "enabled" },
      { unit_file: "nginx.service", state: "disabled", preset: "enabled" },
      { unit_file: "ssh.service", state: "masked", preset: "enabled" },
      { unit_file: "getty@.service", state: "enabled", preset: "enabled" },
    ]);
    expect(parseSystemdServices(units, files)).toEqual([
      {
        name: "cron.service",
        displayName: "cron",
        description: "Regular background program processing daemon",
        state: "running",
        startup: "auto",
        pid: null,
      },
      {
        name: "nginx.service",
        displayName: "nginx",
        description: "A high performance web server",
        state: "failed",
        startup: "disabled",
        pid: null,
      },
      { name: "ssh.service", displayName: "ssh", description: "", state: "stopped", startup: "disabled", pid: null },
    ]);
  });

  test("systemctl show properties; a missing unit is undefined", () => {
    const show =
      "Id=cron.service\nDescription=Regular background program processing daemon\nLoadState=loaded\nActiveState=active\nSubState=running\nUnitFileState=enabled\nMainPID=612\n";
    expect(parseSystemdShow(show)).toMatchObject({ name: "cron.service", state: "running", startup: "auto", pid: 612 });
    expect(parseSystemdShow("Id=nope.service\nLoadState=not-found\nActiveState=inactive\n")).toBeUndefined();
  });
});

describe("journal", () => {
  test("journalctl argv: newest first, JSON, one more than asked, priority, epoch bounds, literal case-free search", () => {
    expect(
      journalArgv(
        { level: "error", limit: 100, since: 1_700_000_000_500, until: 1_700_000_100_000, q: "disk 1.5+ full", unit: "cron" },
        true,
      ),
    ).toEqual([
      "journalctl",
      "--no-pager",
      "--output=json",
      "--reverse",
      "--lines=101",
      "--priority=0..3",
      "--since=@1700000000",
      "--until=@1700000100",
      "--unit=cron",
      "--grep=disk 1\\.5\\+ full",
      "--case-sensitive=false",
    ]);
    expect(journalArgv({ level: "warning", limit: 5, unit: "billing" }, false)).toContain("--identifier=billing");
    expect(literalPattern("a.b*c(d)[e]")).toBe("a\\.b\\*c\\(d\\)\\[e\\]");
  });

  test("recorded `journalctl --output=json` lines (logger -p user.err, and a kernel line) become events", () => {
    const out = parseJournal(sample("journal.json"), 100);
    expect(out.source).toBe("journal");
    const mine = out.items.find((e) => e.message.startsWith("disk failure"));
    expect(mine).toMatchObject({ level: "error", source: "sentpulse-test" });
    expect(mine?.pid).toBeGreaterThan(0);
    expect(mine?.time).toBeGreaterThan(1_796_000_000_000);
    expect(out.items.some((e) => e.source === "kernel")).toBe(true);
  });

  test("one entry more than the limit means older ones exist; a line cut by the output bound is skipped", () => {
    const lines = sample("journal.json").trim().split("\n");
    const limited = parseJournal(lines.join("\n"), lines.length - 1);
    expect(limited.more).toBe(true);
    expect(limited.items).toHaveLength(lines.length - 1);
    expect(parseJournal(`${lines[0]}\n{"MESSAGE":"cut`, 10).items).toHaveLength(1);
  });
});

test("/etc/environment: KEY=value lines, quotes removed, comments skipped", () => {
  expect(parseEtcEnvironment('# comment\nPATH="/usr/local/bin:/usr/bin"\nLANG=en_US.UTF-8\nexport EDITOR=vim\nnot a line\n')).toEqual([
    { key: "PATH", value: "/usr/local/bin:/usr/bin" },
    { key: "LANG", value: "en_US.UTF-8" },
    { key: "EDITOR", value: "vim" },
  ]);
});

describe("signals to a process tree (real processes)", () => {
  const childrenOf = (pid: number): number[] => {
    const out = Bun.spawnSync(["pgrep", "-P", String(pid)])
      .stdout.toString()
      .trim();
    return out ? out.split("\n").map(Number) : [];
  };
  /** Running or sleeping: a zombie (ended, not yet reaped by whoever adopted it) counts as gone. */
  const alive = (pid: number) => {
    try {
      return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
    } catch {
      return false;
    }
  };

  test("a shell waiting on two children: all three are signalled, the shell too (it cannot exit on its children's deaths before its turn)", async () => {
    for (let round = 0; round < 5; round++) {
      const sh = Bun.spawn(["bash", "-c", "sleep 600 & sleep 601 & wait"]);
      let kids: number[] = [];
      for (let i = 0; i < 200 && kids.length < 2; i++) {
        await Bun.sleep(10);
        kids = childrenOf(sh.pid);
      }
      expect(kids).toHaveLength(2);
      const killed = signalEach([...kids, sh.pid], "TERM");
      expect(killed.sort()).toEqual([...kids, sh.pid].sort());
      expect(await sh.exited).not.toBe(0);
      for (let i = 0; i < 100 && kids.some(alive); i++) await Bun.sleep(10);
      expect(kids.filter(alive)).toEqual([]);
    }
  });

  test("STOP and CONT are sent as asked, without the freeze around them", async () => {
    const sh = Bun.spawn(["bash", "-c", "sleep 600 & sleep 601 & wait"]);
    let kids: number[] = [];
    for (let i = 0; i < 200 && kids.length < 2; i++) {
      await Bun.sleep(10);
      kids = childrenOf(sh.pid);
    }
    const state = (pid: number) => /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    // a signal is delivered when the process next runs: the state is read until it settles
    const settled = async (want: (states: (string | undefined)[]) => boolean) => {
      let states = [...kids, sh.pid].map(state);
      for (let i = 0; i < 100 && !want(states); i++) {
        await Bun.sleep(10);
        states = [...kids, sh.pid].map(state);
      }
      return states;
    };
    signalEach([...kids, sh.pid], "STOP");
    expect(await settled((s) => s.every((x) => x === "T"))).toEqual(["T", "T", "T"]);
    signalEach([...kids, sh.pid], "CONT");
    expect(await settled((s) => !s.includes("T"))).not.toContain("T");
    signalEach([...kids, sh.pid], "KILL");
    await sh.exited;
  });
});
