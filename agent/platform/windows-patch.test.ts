import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PendingUpdate, SoftwareItem } from "../../server/protocol/patch.ts";
import { expectValid } from "../test-data/helpers.ts";
import { installArgv } from "./windows-patch.ts";
import {
  parseChocoOutdated,
  parseWingetList,
  parseWingetTable,
  parseWingetUpgrade,
  registryDate,
  wuaClassification,
} from "./windows-patch-parse.ts";

const sample = (name: string) => readFileSync(join(import.meta.dir, "../test-data/patch/windows", name), "utf8");

describe("winget's table, on a real `winget list` of a Windows 10/11 VDI host (59 rows)", () => {
  const out = sample("winget-list.txt");
  const rows = parseWingetTable(out);

  test("every row, by the header's columns", () => {
    expect(rows).toHaveLength(59);
    expect(rows[0]).toEqual({ name: "Microsoft Edge", id: "Microsoft.Edge", version: "109.0.1518.52", available: null, source: "winget" });
    expect(rows.find((r) => r.id === "Obsidian.Obsidian")).toMatchObject({ version: "1.1.9", available: null, source: "winget" });
  });

  test("rows shifted by a cut name (… printed as three bytes) are read from the right", () => {
    expect(rows.find((r) => r.id === "Microsoft.Office")).toEqual({
      name: "Microsoft 365 Apps for enterprise - ???",
      id: "Microsoft.Office",
      version: "16.0.14931.20724",
      available: "16.0.15928.20196",
      source: "winget",
    });
    expect(rows.find((r) => r.id === "Microsoft.VCRedist.2015+.x64")).toMatchObject({
      version: "14.26.28720.3",
      available: "14.34.31931.0",
    });
  });

  test("upgrades: the rows with an available version; ids winget cut short (…) cannot be installed and are left out", () => {
    const ups = parseWingetUpgrade(out);
    for (const u of ups) expectValid(PendingUpdate(u));
    expect(ups.map((u) => `${u.name} ${u.currentVersion} → ${u.version}`)).toEqual([
      "Microsoft.Office 16.0.14931.20724 → 16.0.15928.20196",
      "Microsoft.WindowsVirtualDesktopAgent 1.0.5555.1010 → 1.0.5739.9800",
      "Microsoft.Teams 1.5.0.21668 → 1.5.00.28361",
      "Microsoft.VCRedist.2015+.x64 14.26.28720.3 → 14.34.31931.0",
      "Microsoft.VCRedist.2015+.x86 14.26.28720.3 → 14.34.31931.0",
      "Microsoft.WindowsVirtualDesktopAgent 1.0.5555.1008 → 1.0.5739.9800",
    ]);
    expect(ups.every((u) => u.classification === "feature" && u.source === "winget")).toBe(true);
  });

  test("inventory items from the list, valid on the wire", () => {
    const items = parseWingetList(out);
    expect(items).toHaveLength(59);
    for (const i of items) expectValid(SoftwareItem(i));
  });
});

describe("Windows Update and Chocolatey", () => {
  test("WUA categories and MSRC severity → classification", () => {
    expect(wuaClassification(["Security Updates"], "Critical")).toBe("critical");
    expect(wuaClassification(["Security Updates"], "Important")).toBe("security");
    expect(wuaClassification(["Critical Updates"], null)).toBe("critical");
    expect(wuaClassification(["Definition Updates"], null)).toBe("other");
    expect(wuaClassification(["Feature Packs"], null)).toBe("feature");
  });
  test("registry InstallDate (yyyymmdd)", () => {
    expect(registryDate("20230115")).toBe(Date.UTC(2023, 0, 15));
    expect(registryDate("")).toBeNull();
  });
  test("choco outdated -r lines; pinned packages skipped", () => {
    // the line format documented by Chocolatey for --limit-output: name|current|available|pinned
    const ups = parseChocoOutdated("git|2.40.0|2.43.0|false\r\nnodejs|18.0.0|20.1.0|true\r\n");
    expect(ups.map((u) => [u.name, u.currentVersion, u.version])).toEqual([["git", "2.40.0", "2.43.0"]]);
  });
  test("install argument vectors: winget pins the exact id and version; WUA reads the id from the environment", () => {
    expect(installArgv({ source: "winget", name: "Microsoft.Teams", version: "1.5.00.28361" })).toEqual([
      "winget",
      "upgrade",
      "--id",
      "Microsoft.Teams",
      "--version",
      "1.5.00.28361",
      "--exact",
      "--silent",
      "--accept-package-agreements",
      "--accept-source-agreements",
      "--disable-interactivity",
    ]);
    const wua = installArgv({ source: "wua", name: "KB5034441", version: "1" });
    expect(wua.slice(0, 2)).toEqual(["powershell.exe", "-NoLogo"]);
    expect(wua.join(" ")).not.toContain("KB5034441");
  });
});
