import type { PendingUpdate, UpdateSource } from "../../server/protocol/patch.ts";
import { runStreaming } from "../patch/stream.ts";
import type { PlatformPatch, ScanProblem, UpdateScan } from "../patch/types.ts";
import { runCommand } from "./exec.ts";
import {
  parseChocoOutdated,
  parseRegistryUninstall,
  parseWingetList,
  parseWingetUpgrade,
  parseWuaUpdates,
  REGISTRY_SCRIPT,
  WUA_SEARCH_SCRIPT,
} from "./windows-patch-parse.ts";
import { powershellArgv } from "./windows-query.ts";

const problem = (source: string, err: unknown): ScanProblem => ({
  source,
  code: "COMMAND_FAILED",
  message: String(err instanceof Error ? err.message : err).slice(0, 1024),
});
const has = (bin: string) => Bun.which(bin) !== null;

/** Installs one Windows Update by KB or update id (read from the environment, never pasted into the script). */
const WUA_INSTALL_SCRIPT = `$id = $env:SENTPULSE_UPDATE_ID
$s = New-Object -ComObject Microsoft.Update.Session
$found = $s.CreateUpdateSearcher().Search("IsInstalled=0 and IsHidden=0").Updates | Where-Object { $_.Identity.UpdateID -eq $id -or ($_.KBArticleIDs | ForEach-Object { "KB$_" }) -contains $id }
if (-not $found) { Write-Error "no pending update $id"; exit 3 }
$c = New-Object -ComObject Microsoft.Update.UpdateColl
$found | ForEach-Object { if (-not $_.EulaAccepted) { $_.AcceptEula() }; [void]$c.Add($_) }
$d = $s.CreateUpdateDownloader(); $d.Updates = $c; Write-Output "downloading $($c.Count) update(s)"; [void]$d.Download()
$i = $s.CreateUpdateInstaller(); $i.Updates = $c; $r = $i.Install()
Write-Output "result code $($r.ResultCode), reboot required $($r.RebootRequired)"
if ($r.ResultCode -ne 2 -and $r.ResultCode -ne 3) { exit 1 }`;

const REBOOT_CHECK_SCRIPT = `(Test-Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired') -or (Test-Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending')`;

/** The argument vector that installs one update at exactly its version (never a shell). */
export function installArgv(u: { source: UpdateSource; name: string; version: string }): string[] {
  switch (u.source) {
    case "wua":
      return powershellArgv(WUA_INSTALL_SCRIPT);
    case "winget":
      return [
        "winget",
        "upgrade",
        "--id",
        u.name,
        "--version",
        u.version,
        "--exact",
        "--silent",
        "--accept-package-agreements",
        "--accept-source-agreements",
        "--disable-interactivity",
      ];
    case "choco":
      return ["choco", "upgrade", u.name, "--version", u.version, "-y", "--no-progress", "--limit-output"];
    default:
      throw new Error(`${u.source} updates are not installed on Windows`);
  }
}

export const windowsPatch: PlatformPatch = {
  async inventory() {
    const problems: ScanProblem[] = [];
    const items = parseRegistryUninstall(await runCommand(powershellArgv(REGISTRY_SCRIPT), 120_000));
    if (has("winget")) {
      const known = new Set(items.map((i) => i.name.toLowerCase()));
      try {
        const winget = parseWingetList(
          await runCommand(["winget", "list", "--accept-source-agreements", "--disable-interactivity"], 120_000),
        );
        items.push(...winget.filter((w) => !known.has(w.name.toLowerCase())));
      } catch (err) {
        problems.push(problem("winget", err));
      }
    }
    return { items, problems };
  },
  async pending(): Promise<UpdateScan> {
    const sources: UpdateSource[] = ["wua"];
    const problems: ScanProblem[] = [];
    const updates: PendingUpdate[] = await runCommand(powershellArgv(WUA_SEARCH_SCRIPT), 600_000)
      .then(parseWuaUpdates)
      .catch((err) => {
        problems.push(problem("wua", err));
        return [];
      });
    if (has("winget")) {
      sources.push("winget");
      await runCommand(["winget", "upgrade", "--accept-source-agreements", "--disable-interactivity"], 180_000)
        .then((out) => updates.push(...parseWingetUpgrade(out)))
        .catch((err) => problems.push(problem("winget", err)));
    }
    if (has("choco")) {
      sources.push("choco");
      await runCommand(["choco", "outdated", "-r"], 180_000)
        .then((out) => updates.push(...parseChocoOutdated(out)))
        .catch((err) => problems.push(problem("choco", err)));
    }
    return { sources, updates, problems };
  },
  install: (u, emit, timeoutMs) => runStreaming(installArgv(u), u.source === "wua" ? { SENTPULSE_UPDATE_ID: u.name } : {}, emit, timeoutMs),
  async rebootRequired() {
    // Windows Update and component servicing leave these keys until the restart
    const out = await runCommand(powershellArgv(REBOOT_CHECK_SCRIPT), 30_000);
    return out.trim() === "True";
  },
};
