import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PendingUpdate } from "../../server/protocol/patch.ts";
import { expectValid } from "../test-data/helpers.ts";
import { installArgv } from "./darwin-patch.ts";
import { labelName, parseBrewList, parseSoftwareUpdateList } from "./darwin-patch-parse.ts";

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

describe("brew", () => {
  test("brew list --versions: the last version is the current one", () => {
    expect(parseBrewList("git 2.43.0\nopenssl@3 3.1.4 3.2.0\n")).toEqual([
      { source: "brew", name: "git", version: "2.43.0", arch: "", publisher: "Homebrew", installedAt: null },
      { source: "brew", name: "openssl@3", version: "3.2.0", arch: "", publisher: "Homebrew", installedAt: null },
    ]);
  });
});
