import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PendingUpdate, SoftwareItem } from "../../server/protocol/patch.ts";
import { expectValid } from "../test-data/helpers.ts";
import { installArgv } from "./windows-patch.ts";
import {
  parseChocoOutdated,
  parseRegistryUninstall,
  parseWingetList,
  parseWingetTable,
  parseWingetUpgrade,
  parseWuaUpdates,
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

  test("upgrades: the rows with an available version (the agent listed twice is one update); ids winget cut short (…) cannot be installed and are left out", () => {
    const ups = parseWingetUpgrade(out);
    for (const u of ups) expectValid(PendingUpdate(u));
    expect(ups.map((u) => `${u.name} ${u.currentVersion} → ${u.version}`)).toEqual([
      "Microsoft.Office 16.0.14931.20724 → 16.0.15928.20196",
      "Microsoft.WindowsVirtualDesktopAgent 1.0.5555.1010 → 1.0.5739.9800",
      "Microsoft.Teams 1.5.0.21668 → 1.5.00.28361",
      "Microsoft.VCRedist.2015+.x64 14.26.28720.3 → 14.34.31931.0",
      "Microsoft.VCRedist.2015+.x86 14.26.28720.3 → 14.34.31931.0",
    ]);
    expect(ups.every((u) => u.classification === "feature" && u.source === "winget")).toBe(true);
  });

  test("inventory items from the list, valid on the wire", () => {
    const items = parseWingetList(out);
    expect(items).toHaveLength(59);
    for (const i of items) expectValid(SoftwareItem(i));
  });
});

describe("winget upgrade, real tables from winget-cli and winget-pkgs issues", () => {
  test("six rows, one package listed twice (two Office installs) is one update", () => {
    const ups = parseWingetUpgrade(sample("winget-upgrade.winget-cli-1869.txt"));
    for (const u of ups) expectValid(PendingUpdate(u));
    expect(ups.map((u) => `${u.name} ${u.currentVersion} → ${u.version}`)).toEqual([
      "OpenWhisperSystems.Signal 5.27.1 → 5.29.0",
      "Microsoft.Edge 97.0.1072.62 → 97.0.1072.69",
      "Microsoft.EdgeWebView2Runtime 97.0.1072.62 → 97.0.1072.69",
      "Microsoft.Office 16.0.14701.20290 → 16.0.14729.20228",
      "Postman.Postman 9.8.3 → 9.9.3",
    ]);
    expect(ups[0]).toMatchObject({ title: "Signal 5.29.0", origin: "winget", classification: "feature" });
  });
  test("an installed version winget cannot tell (Unknown) is no current version; a letter in a version is kept", () => {
    const ups = parseWingetUpgrade(sample("winget-upgrade-unknown.winget-pkgs-36722.txt"));
    expect(ups.map((u) => [u.name, u.currentVersion, u.version])).toEqual([
      ["Mega.MEGASync", null, "4.6.1.0"],
      ["GOG.Galaxy", null, "2.0.43.71a"],
    ]);
  });
});

describe("Chocolatey: real choco outdated output", () => {
  test("the full output of 0.9.10 (issue 457): every line pinned or not newer, so nothing to install (choco says 0 outdated too)", () => {
    const out = sample("choco-outdated.choco-457.txt");
    expect(out).toContain("Chocolatey has determined 0 package(s) are outdated.");
    expect(parseChocoOutdated(out)).toEqual([]);
  });
  test("--limit-output lines: the one package with a newer version", () => {
    const ups = parseChocoOutdated(sample("choco-outdated-limit-output.mpm.txt"));
    expect(ups).toHaveLength(1);
    for (const u of ups) expectValid(PendingUpdate(u));
    expect(ups[0]).toMatchObject({ source: "choco", name: "atom", currentVersion: "1.23.3", version: "1.24.0", origin: "chocolatey" });
  });
});

describe("registry uninstall keys, a real dump of a Windows Server (cnquery's test data)", () => {
  const items = parseRegistryUninstall(sample("registry-uninstall.cnquery.json"));
  test("keys without a display name are skipped; the rest are items with version and publisher", () => {
    expect(items).toHaveLength(20);
    for (const i of items) expectValid(SoftwareItem(i));
    expect(items.find((i) => i.name === "VMware Tools")).toEqual({
      source: "registry",
      name: "VMware Tools",
      version: "11.3.0.18090558",
      arch: "",
      publisher: "VMware, Inc.",
      installedAt: null,
    });
    expect(items.find((i) => i.name === "Microsoft Edge Update")?.publisher).toBeNull();
  });
});

describe("Windows Update and Chocolatey", () => {
  test("WUA search results (constructed from the IUpdate documentation: no recorded output of this script was found)", () => {
    const json = JSON.stringify([
      {
        Title: "2024-01 Cumulative Update for Windows 11 Version 23H2 for x64-based Systems (KB5034123)",
        UpdateID: "3c114126-d4ec-42c6-b563-fd11b8c15b46",
        RevisionNumber: 200,
        KBArticleIDs: ["5034123"],
        Categories: ["Security Updates", "Windows 11"],
        MsrcSeverity: "Critical",
        MaxDownloadSize: 524288000,
        CveIDs: ["CVE-2024-20674", "CVE-2024-20653"],
        RebootBehavior: 1,
      },
      {
        Title: "Security Intelligence Update for Microsoft Defender Antivirus",
        UpdateID: "9f19993c-d2de-4ebe-a8ab-9c9edfff44a0",
        KBArticleIDs: "2267602",
        Categories: "Definition Updates",
        MsrcSeverity: null,
        RebootBehavior: 0,
      },
    ]);
    const ups = parseWuaUpdates(json);
    for (const u of ups) expectValid(PendingUpdate(u));
    expect(ups[0]).toMatchObject({
      name: "KB5034123",
      version: "200",
      classification: "critical",
      severity: "Critical",
      ids: ["KB5034123", "CVE-2024-20674", "CVE-2024-20653"],
      sizeBytes: 524288000,
      rebootRequired: true,
    });
    expect(ups[1]).toMatchObject({ name: "KB2267602", classification: "other", rebootRequired: false, ids: ["KB2267602"] });
  });
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
