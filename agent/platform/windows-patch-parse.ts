import { PACKAGE_NAME_PATTERN, PACKAGE_VERSION_PATTERN } from "../../server/protocol/patch-limits.ts";
import type { Classification, PendingUpdate, SoftwareItem } from "../../server/protocol/patch.ts";

/**
 * Parsers of Windows' software and update sources (pure: tested on recorded real output under
 * agent/test-data/patch/windows/): the registry's uninstall keys (as PowerShell JSON), Windows Update
 * search results (the WUA COM API's IUpdate fields as JSON), `winget list` / `winget upgrade` tables
 * and `choco outdated -r`.
 */

const NAME = new RegExp(PACKAGE_NAME_PATTERN);
const VERSION = new RegExp(PACKAGE_VERSION_PATTERN);

/** ConvertTo-Json gives an object for one item and an array for several. */
function asArray(v: unknown): Record<string, unknown>[] {
  if (Array.isArray(v)) return v.filter((x): x is Record<string, unknown> => typeof x === "object" && x !== null);
  return typeof v === "object" && v !== null ? [v as Record<string, unknown>] : [];
}
const str = (v: unknown): string | null => (typeof v === "string" && v.trim() ? v.trim() : typeof v === "number" ? String(v) : null);

/** Registry `InstallDate` (yyyymmdd) → epoch ms, or null. */
export function registryDate(v: unknown): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(str(v) ?? "");
  if (!m) return null;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isFinite(t) ? t : null;
}

/** The uninstall keys of HKLM (64- and 32-bit views) and HKCU, with a display name, as JSON. */
export const REGISTRY_SCRIPT = `$paths = 'HKLM:\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*','HKLM:\\Software\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*','HKCU:\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*'
@(Get-ItemProperty -Path $paths -ErrorAction SilentlyContinue | Where-Object { $_.DisplayName -and -not $_.SystemComponent } | Select-Object DisplayName,DisplayVersion,Publisher,InstallDate) | ConvertTo-Json -Compress -Depth 2`;

/** Uninstall-key JSON (DisplayName, DisplayVersion, Publisher, InstallDate) → items. */
export function parseRegistryUninstall(json: string): SoftwareItem[] {
  const text = json.trim();
  if (!text) return [];
  return asArray(JSON.parse(text)).flatMap((k) => {
    const name = str(k.DisplayName);
    if (!name) return [];
    return [
      {
        source: "registry" as const,
        name: name.slice(0, 256),
        version: (str(k.DisplayVersion) ?? "").slice(0, 128),
        arch: "",
        publisher: str(k.Publisher)?.slice(0, 256) ?? null,
        installedAt: registryDate(k.InstallDate),
      },
    ];
  });
}

/**
 * Windows Update through the WUA COM API: a search for updates not installed, each update's title,
 * KB ids, categories, MSRC severity, size, CVE ids and whether it can need a reboot, as JSON.
 */
export const WUA_SEARCH_SCRIPT = `$s = New-Object -ComObject Microsoft.Update.Session
$r = $s.CreateUpdateSearcher().Search("IsInstalled=0 and IsHidden=0")
@($r.Updates | ForEach-Object { [pscustomobject]@{
  Title = $_.Title; UpdateID = $_.Identity.UpdateID; RevisionNumber = $_.Identity.RevisionNumber
  KBArticleIDs = @($_.KBArticleIDs); Categories = @($_.Categories | ForEach-Object { $_.Name })
  MsrcSeverity = $_.MsrcSeverity; MaxDownloadSize = [int64]$_.MaxDownloadSize; CveIDs = @($_.CveIDs)
  RebootBehavior = $_.InstallationBehavior.RebootBehavior
} }) | ConvertTo-Json -Compress -Depth 3`;

/** Windows Update's categories and MSRC severity → classification. */
export function wuaClassification(categories: string[], severity: string | null): Classification {
  if (severity === "Critical" || categories.includes("Critical Updates")) return "critical";
  if (severity || categories.includes("Security Updates")) return "security";
  if (categories.some((c) => c === "Feature Packs" || c === "Upgrades" || c === "Update Rollups")) return "feature";
  return "other";
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v : v == null ? [] : [v]).map(str).filter((x): x is string => x !== null);

/**
 * WUA search results (the fields of WUA_SEARCH_SCRIPT, or the same names from other tools' JSON):
 * installed by KB (`KB5034441`) when there is one, else by update id; version is the revision number.
 */
export function parseWuaUpdates(json: string): PendingUpdate[] {
  const text = json.trim();
  if (!text) return [];
  return asArray(JSON.parse(text)).flatMap((u) => {
    const title = str(u.Title);
    const kbs = strings(u.KBArticleIDs).map((k) => (k.toUpperCase().startsWith("KB") ? k.toUpperCase() : `KB${k}`));
    const id = str(u.UpdateID) ?? str((u.Identity as Record<string, unknown> | undefined)?.UpdateID);
    const name = kbs[0] ?? id;
    if (!title || !name || !NAME.test(name)) return [];
    const categories = strings(u.Categories).concat(
      asArray(u.Categories)
        .map((c) => str(c.Name) ?? "")
        .filter(Boolean),
    );
    const severity = str(u.MsrcSeverity);
    const size = Number(u.MaxDownloadSize);
    const rev = str(u.RevisionNumber) ?? str((u.Identity as Record<string, unknown> | undefined)?.RevisionNumber) ?? "1";
    return [
      {
        source: "wua" as const,
        name,
        title: title.slice(0, 512),
        currentVersion: null,
        version: VERSION.test(rev) ? rev : "1",
        classification: wuaClassification(categories, severity),
        severity: severity?.slice(0, 32) ?? null,
        ids: [...kbs, ...strings(u.CveIDs)].slice(0, 32).map((x) => x.slice(0, 64)),
        origin: categories.join(", ").slice(0, 256) || "Windows Update",
        sizeBytes: Number.isFinite(size) && size > 0 ? Math.round(size) : null,
        // RebootBehavior: 0 never, 1 always, 2 can request
        rebootRequired: u.RebootBehavior === undefined ? null : Number(u.RebootBehavior) > 0,
      },
    ];
  });
}

/**
 * A winget table (`winget list`, `winget upgrade`): columns are found from the header line (Name, Id,
 * Version, Available, Source), whose positions hold for every row below the dashes. Winget pads by
 * display width, so wide characters in a name can shift a row: such rows are re-split on runs of spaces.
 */
export function parseWingetTable(
  out: string,
): { name: string; id: string; version: string; available: string | null; source: string | null }[] {
  // a progress spinner before the table is overwritten with carriage returns: keep what follows the last one
  const lines = out
    .split("\n")
    .map((l) => l.replace(/\r$/, ""))
    .map((l) => l.slice(l.lastIndexOf("\r") + 1));
  const h = lines.findIndex((l, i) => /^Name\s+Id\s+Version/.test(l.trimStart()) && /^-{10,}/.test(lines[i + 1] ?? ""));
  if (h < 0) return [];
  const header = (lines[h] ?? "").trimStart();
  const offset = (lines[h] ?? "").length - header.length;
  const cols = ["Name", "Id", "Version", "Available", "Source"]
    .map((c) => ({ c, at: header.search(new RegExp(`\\b${c}\\b`)) }))
    .filter((x) => x.at >= 0);
  const rows = [];
  for (const raw of lines.slice(h + 2)) {
    const l = raw.slice(offset);
    if (!l.trim() || /^\d+ (upgrades|packages?) /.test(l) || /^-+$/.test(l.trim())) continue;
    if (/upgrade available|require explicit targeting|version numbers that cannot be determined/i.test(l)) break;
    const f: Record<string, string> = {};
    cols.forEach(({ c, at }, i) => {
      f[c] = l.slice(at, cols[i + 1]?.at).trim();
    });
    if (!f.Id || /\s/.test(f.Id) || /\s/.test(f.Version ?? "")) {
      // shifted by wide characters (or a name cut with "…" that became several bytes): fields from the right
      const tokens = l.trim().split(/\s+/);
      const source = /^(winget|msstore)$/.test(tokens.at(-1) ?? "") ? (tokens.pop() ?? null) : null;
      const versionLike = (t: string | undefined) => t !== undefined && /^v?\d[\w.+~:-]*$/.test(t);
      const available =
        source && tokens.length >= 4 && versionLike(tokens.at(-1)) && versionLike(tokens.at(-2)) ? (tokens.pop() ?? "") : "";
      f.Version = tokens.pop() ?? "";
      f.Id = tokens.pop() ?? "";
      f.Name = tokens.join(" ");
      f.Available = available;
      f.Source = source ?? "";
    }
    if (!f.Id || !f.Version) continue;
    rows.push({ name: f.Name ?? f.Id, id: f.Id, version: f.Version, available: f.Available || null, source: f.Source || null });
  }
  return rows;
}

/**
 * `winget upgrade` rows → pending updates (third-party software: classification feature). A package
 * winget lists twice (two installs of one id) is one update; an installed version winget cannot tell
 * (`Unknown`, or `< x` for "below x") has no current version.
 */
export function parseWingetUpgrade(out: string): PendingUpdate[] {
  const seen = new Set<string>();
  return parseWingetTable(out).flatMap((r) => {
    if (!r.available || !NAME.test(r.id) || !VERSION.test(r.available) || seen.has(`${r.id}\u0000${r.available}`)) return [];
    seen.add(`${r.id}\u0000${r.available}`);
    const current = /^(unknown|<.*)$/i.test(r.version) ? null : r.version.slice(0, 128);
    return [
      {
        source: "winget" as const,
        name: r.id,
        title: `${r.name} ${r.available}`.slice(0, 512),
        currentVersion: current,
        version: r.available,
        classification: "feature" as const,
        severity: null,
        ids: [],
        origin: r.source?.slice(0, 256) ?? "winget",
        sizeBytes: null,
        rebootRequired: null,
      },
    ];
  });
}

/** `winget list` rows → items (source winget; the publisher is not in the table). */
export function parseWingetList(out: string): SoftwareItem[] {
  return parseWingetTable(out).map((r) => ({
    source: "winget" as const,
    name: r.name.slice(0, 256),
    version: r.version.slice(0, 128),
    arch: "",
    publisher: null,
    installedAt: null,
  }));
}

/**
 * `choco outdated -r` (limited output): `name|current|available|pinned` per line (the full output has
 * the same lines between its header and summary). Pinned packages are left where the technician
 * pinned them, and a line whose available version is the installed one (Chocolatey lists those with a
 * warning) is no update.
 */
export function parseChocoOutdated(out: string): PendingUpdate[] {
  return out.split(/\r?\n/).flatMap((l) => {
    const [name = "", current = "", available = "", pinned = ""] = l.trim().split("|");
    if (!available || pinned === "true" || available === current || !NAME.test(name) || !VERSION.test(available)) return [];
    return [
      {
        source: "choco" as const,
        name,
        title: `${name} ${available}`,
        currentVersion: current.slice(0, 128),
        version: available,
        classification: "feature" as const,
        severity: null,
        ids: [],
        origin: "chocolatey",
        sizeBytes: null,
        rebootRequired: null,
      },
    ];
  });
}
