import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PendingUpdate, SoftwareItem } from "../../server/protocol/patch.ts";
import { expectValid } from "../test-data/helpers.ts";
import { installArgv } from "./darwin-patch.ts";
import { labelName, parseBrewList, parseBrewOutdated, parseSoftwareUpdateList, parseSystemProfilerApps } from "./darwin-patch-parse.ts";

const sample = (name: string) => readFileSync(join(import.meta.dir, "../test-data/patch/darwin", name), "utf8");

describe("softwareupdate --list on a real macOS 12.1 Mac mini", () => {
  const ups = parseSoftwareUpdateList(sample("softwareupdate-list.macos12.txt"));
  test("each label with its title, version, size, and whether it restarts", () => {
    expect(ups).toHaveLength(5);
    for (const { label: _, ...u } of ups) expectValid(PendingUpdate(u));
    expect(ups[0]).toMatchObject({
      label: "Command Line Tools for Xcode-13.2",
      name: "Command_Line_Tools_for_Xcode-13.2",
      title: "Command Line Tools for Xcode",
      version: "13.2",
      sizeBytes: 577329 * 1024,
      rebootRequired: false,
      classification: "other",
    });
    expect(ups[3]).toMatchObject({
      label: "macOS Monterey 12.6.7-21G651",
      version: "12.6.7",
      rebootRequired: true,
      classification: "security",
      sizeBytes: 11395817 * 1024,
    });
  });
  test("a label is installed by its real text, found again from the name; never through a shell", () => {
    expect(labelName("macOS Monterey 12.6.7-21G651")).toBe("macOS_Monterey_12.6.7-21G651");
    expect(
      installArgv({ source: "softwareupdate", name: "macOS_Monterey_12.6.7-21G651", version: "12.6.7" }, "macOS Monterey 12.6.7-21G651"),
    ).toEqual(["softwareupdate", "--install", "macOS Monterey 12.6.7-21G651", "--agree-to-license"]);
    expect(() => installArgv({ source: "softwareupdate", name: "gone", version: "1" })).toThrow();
  });
});

describe("brew, real outputs pasted in meta-package-manager's Homebrew manager", () => {
  test("brew list --versions (formulae and casks): the newest version kept, the (!) flag of a removed cask is not a version", () => {
    const formulae = parseBrewList(sample("brew-list-versions-formula.mpm.txt"));
    expect(formulae).toHaveLength(11);
    for (const i of formulae) expectValid(SoftwareItem(i));
    expect(formulae.find((i) => i.name === "audacity")?.version).toBe("2.1.2");
    expect(formulae.find((i) => i.name === "graphviz")?.version).toBe("2.40.20161221.0239");
    const casks = parseBrewList(sample("brew-list-versions-cask.mpm.txt"));
    expect(casks.find((i) => i.name === "virtualbox")).toEqual({
      source: "brew",
      name: "virtualbox",
      version: "5.1.10-112026",
      arch: "",
      publisher: "Homebrew",
      installedAt: null,
    });
  });
  test("brew outdated --json=v2: formulae with their installed versions", () => {
    const ups = parseBrewOutdated(sample("brew-outdated-json-v2-formula.mpm.json"));
    for (const u of ups) expectValid(PendingUpdate(u));
    expect(ups.map((u) => [u.name, u.currentVersion, u.version])).toEqual([
      ["pygobject3", "3.36.1", "3.38.0"],
      ["rav1e", "0.3.3", "0.3.4"],
    ]);
  });
  test("casks (--greedy): installed versions as a string; latest → latest is nothing to install; a version with a comma cannot be named", () => {
    const ups = parseBrewOutdated(sample("brew-outdated-json-v2-cask-greedy.mpm.json"));
    for (const u of ups) expectValid(PendingUpdate(u));
    expect(ups.map((u) => [u.name, u.currentVersion, u.version])).toEqual([
      ["amethyst", "0.14.3", "0.15.3"],
      ["balenaetcher", "1.5.106", "1.5.108"],
      ["electrum", "4.0.2", "4.0.3"],
    ]);
    expect(installArgv({ source: "brew", name: "amethyst", version: "0.15.3" })).toEqual(["brew", "upgrade", "amethyst"]);
  });
});

describe("system_profiler SPApplicationsDataType -json (two apps of a real Apple silicon Mac, as a test pasted them)", () => {
  test("Apple's own apps (signed Software Signing, obtained from apple) are published by Apple Inc.", () => {
    const items = parseSystemProfilerApps(sample("system_profiler-applications-json.planisphere.json"));
    for (const i of items) expectValid(SoftwareItem(i));
    expect(items).toEqual([
      {
        source: "applications",
        name: "Installer",
        version: "6.2.0",
        arch: "",
        publisher: "Apple Inc.",
        installedAt: Date.parse("2021-10-18T03:30:38Z"),
      },
      {
        source: "applications",
        name: "TextEdit",
        version: "1.17",
        arch: "",
        publisher: "Apple Inc.",
        installedAt: Date.parse("2021-10-18T03:30:38Z"),
      },
    ]);
  });
  test("a Developer ID signature names the developer without the team id", () => {
    const [edge] = parseSystemProfilerApps(
      JSON.stringify({
        SPApplicationsDataType: [
          {
            _name: "Microsoft Edge",
            obtained_from: "identified_developer",
            signed_by: ["Developer ID Application: Microsoft Corporation (UBF8T346G9)"],
            version: "1",
          },
        ],
      }),
    );
    expect(edge?.publisher).toBe("Microsoft Corporation");
  });
});
