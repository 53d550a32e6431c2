import { describe, expect, test } from "bun:test";
import type { ServiceList } from "../protocol/toolbox.ts";
import { watchedStates } from "./health-watch.ts";

const svc = (name: string, state: ServiceList["items"][number]["state"], displayName = name) => ({
  name,
  displayName,
  description: "",
  state,
  startup: "auto" as const,
  pid: null,
});

describe("the services a rule names, found in a device's list", () => {
  test("systemd: a unit with or without .service; a name the device lacks is left out", () => {
    const list: ServiceList = { manager: "systemd", items: [svc("cups.service", "failed", "cups"), svc("ssh.service", "running", "ssh")] };
    expect(watchedStates(list, ["cups", "ssh.service", "nginx"])).toEqual(
      new Map([
        ["cups", "failed"],
        ["ssh.service", "running"],
      ]),
    );
  });

  test("Windows: by name or display name, whatever the case; elsewhere case matters", () => {
    const win: ServiceList = { manager: "windows", items: [svc("Spooler", "stopped", "Print Spooler")] };
    expect(watchedStates(win, ["spooler", "Print Spooler"])).toEqual(
      new Map([
        ["spooler", "stopped"],
        ["Print Spooler", "stopped"],
      ]),
    );
    const sysv: ServiceList = { manager: "sysv", items: [svc("atd", "running")] };
    expect(watchedStates(sysv, ["ATD", "atd"])).toEqual(new Map([["atd", "running"]]));
  });
});
