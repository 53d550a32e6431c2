import { PACKAGE_NAME_PATTERN, PACKAGE_VERSION_PATTERN } from "../../server/protocol/patch-limits.ts";
import type { Classification, PendingUpdate, SoftwareItem } from "../../server/protocol/patch.ts";

/**
 * Parsers of macOS's software and update sources (pure: tested on recorded real output under
 * agent/test-data/patch/darwin/): `system_profiler SPApplicationsDataType -json`, `brew list --versions`,
 * `softwareupdate -l` and `brew outdated --json=v2`.
 */

const NAME = new RegExp(PACKAGE_NAME_PATTERN);
const VERSION = new RegExp(PACKAGE_VERSION_PATTERN);

/** system_profiler's applications: name, version, where it was obtained, last modified (ISO) as the install time. */
export function parseSystemProfilerApps(json: string): SoftwareItem[] {
  const apps = (JSON.parse(json) as { SPApplicationsDataType?: Record<string, unknown>[] }).SPApplicationsDataType ?? [];
  return apps.flatMap((a) => {
    const name = typeof a._name === "string" ? a._name : null;
    if (!name) return [];
    const modified = typeof a.lastModified === "string" ? Date.parse(a.lastModified) : Number.NaN;
    // Apple's own apps are signed "Software Signing"; others by "Developer ID Application: Name (TEAMID)"
    const first = Array.isArray(a.signed_by) && typeof a.signed_by[0] === "string" ? a.signed_by[0] : "";
    const developer = /^Developer ID Application: (.+?)(?: \([A-Z0-9]{10}\))?$/.exec(first)?.[1] ?? null;
    const signed =
      a.obtained_from === "apple" ? "Apple Inc." : (developer ?? (a.obtained_from === "mac_app_store" ? "Mac App Store" : null));
    return [
      {
        source: "applications" as const,
        name: name.slice(0, 256),
        version: (typeof a.version === "string" ? a.version : "").slice(0, 128),
        // several copies of an app in different folders are told apart by their path
        arch: "",
        publisher: signed?.slice(0, 256) ?? null,
        installedAt: Number.isFinite(modified) ? modified : null,
      },
    ];
  });
}

/**
 * `brew list --versions`: `name version [version…]` per line (the last version is the newest kept);
 * `(!)` marks a cask whose definition is gone from its tap and is not a version.
 */
export function parseBrewList(out: string): SoftwareItem[] {
  return out.split("\n").flatMap((l) => {
    const [name, ...versions] = l
      .trim()
      .split(/\s+/)
      .filter((t) => t !== "(!)");
    if (!name || versions.length === 0) return [];
    return [
      {
        source: "brew" as const,
        name: name.slice(0, 256),
        version: (versions.at(-1) ?? "").slice(0, 128),
        arch: "",
        publisher: "Homebrew",
        installedAt: null,
      },
    ];
  });
}

/** A softwareupdate label as an installable name: spaces become `_` (the agent finds the real label again before installing). */
export function labelName(label: string): string {
  return label.trim().replace(/\s+/g, "_");
}

/**
 * `softwareupdate -l`: `* Label: X` lines followed by `Title: …, Version: …, Size: …KiB, Recommended: YES, Action: restart,`
 * (macOS 10.15+). Security responses and macOS updates are security; other recommended updates are other.
 */
export function parseSoftwareUpdateList(out: string): (PendingUpdate & { label: string })[] {
  const updates: (PendingUpdate & { label: string })[] = [];
  const lines = out.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*\*\s*Label:\s*(.+?)\s*$/.exec(lines[i] ?? "");
    if (!m?.[1]) continue;
    const label = m[1];
    const detail = lines[i + 1] ?? "";
    const field = (k: string) => new RegExp(`${k}: ([^,]*)`).exec(detail)?.[1]?.trim() ?? null;
    const title = field("Title") ?? label;
    const version = field("Version") ?? "";
    const kib = Number(/Size: (\d+)\s*[Kk]/.exec(detail)?.[1]);
    const name = labelName(label);
    if (!NAME.test(name) || !VERSION.test(version)) continue;
    const security = /security|rapid security|background security|xprotect|macos/i.test(title);
    const classification: Classification = security ? "security" : field("Recommended") === "YES" ? "other" : "feature";
    updates.push({
      label,
      source: "softwareupdate",
      name,
      title: title.slice(0, 512),
      currentVersion: null,
      version,
      classification,
      severity: null,
      ids: [],
      origin: "Apple Software Update",
      sizeBytes: Number.isFinite(kib) ? kib * 1024 : null,
      rebootRequired: /restart/i.test(field("Action") ?? ""),
    });
  }
  return updates;
}

/**
 * `brew outdated --json=v2`: formulae (installed versions as an array) and casks (as one string,
 * several separated by ", "). A cask whose installed and current versions are both `latest` (listed
 * with --greedy) has nothing to install; a version with characters the wire refuses (a cask's
 * `5.48,build`) cannot be named in an install and is left out.
 */
export function parseBrewOutdated(json: string): PendingUpdate[] {
  const o = JSON.parse(json) as Record<string, { name?: unknown; installed_versions?: unknown; current_version?: unknown }[] | undefined>;
  return [...(o.formulae ?? []), ...(o.casks ?? [])].flatMap((f) => {
    const name = typeof f.name === "string" ? f.name : "";
    const version = typeof f.current_version === "string" ? f.current_version : "";
    const installed = Array.isArray(f.installed_versions)
      ? f.installed_versions.at(-1)
      : typeof f.installed_versions === "string"
        ? f.installed_versions.split(", ").at(-1)
        : null;
    if (!NAME.test(name) || !VERSION.test(version) || installed === version) return [];
    return [
      {
        source: "brew" as const,
        name,
        title: `${name} ${version}`,
        currentVersion: typeof installed === "string" ? installed.slice(0, 128) : null,
        version,
        classification: "feature" as const,
        severity: null,
        ids: [],
        origin: "Homebrew",
        sizeBytes: null,
        rebootRequired: false,
      },
    ];
  });
}
