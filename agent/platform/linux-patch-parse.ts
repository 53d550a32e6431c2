import { PACKAGE_NAME_PATTERN, PACKAGE_VERSION_PATTERN } from "../../server/protocol/patch-limits.ts";
import type { Classification, PendingUpdate, SoftwareItem } from "../../server/protocol/patch.ts";

/**
 * Parsers of the Linux package managers' output (pure: tested on recorded real output under
 * agent/test-data/patch/). Names and versions that do not match the wire's strict patterns are
 * dropped from pending updates (they could never be installed through an argument vector anyway).
 */

const NAME = new RegExp(PACKAGE_NAME_PATTERN);
const VERSION = new RegExp(PACKAGE_VERSION_PATTERN);

/** The dpkg-query format the agent asks for: package, version, architecture, maintainer, status. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own ${field} syntax, not a template
export const DPKG_QUERY_FORMAT = "${Package}\\t${Version}\\t${Architecture}\\t${Maintainer}\\t${db:Status-Abbrev}\\n";

/** `dpkg-query -W -f DPKG_QUERY_FORMAT`: installed packages (status `?i`), install times filled in later. */
export function parseDpkgQuery(out: string): SoftwareItem[] {
  const items: SoftwareItem[] = [];
  for (const l of out.split("\n")) {
    const [name, version, arch, maintainer, status] = l.split("\t");
    if (!name || version === undefined || !status || status[1] !== "i") continue;
    items.push({
      source: "dpkg",
      name: name.slice(0, 256),
      version: version.slice(0, 128),
      arch: (arch ?? "").slice(0, 32),
      publisher: maintainer ? maintainer.slice(0, 256) : null,
      installedAt: null,
    });
  }
  return items;
}

/** Is this apt archive a security pocket? `Debian-Security:12/stable-security`, `Ubuntu:22.04/jammy-security`, a label naming security. */
export function isSecurityOrigin(origin: string): boolean {
  const [label = "", rest = ""] = origin.split(/:(.*)/s);
  const suite = rest.includes("/") ? rest.slice(rest.lastIndexOf("/") + 1) : rest;
  return /-security$/i.test(suite) || /security/i.test(label);
}

/**
 * `apt-get -s dist-upgrade` (a simulation): one pending update per `Inst name [current] (new origins [arch])`
 * line. A line without `[current]` installs a new package (a dependency), not an update: skipped.
 * Origins are `Label:Version/Suite` (or `Label:Suite`), comma-separated when a version is in several.
 */
export function parseAptSimulate(out: string): PendingUpdate[] {
  const updates: PendingUpdate[] = [];
  const re = /^Inst (\S+) \[([^\]]+)\] \((\S+) ([^[]*?)\s*\[([^\]]+)\]\)/;
  for (const l of out.split("\n")) {
    const m = re.exec(l);
    if (!m) continue;
    const [, rawName = "", current = "", version = "", originText = ""] = m;
    // multiarch packages keep their `:arch`, which apt-get install takes as it is
    const name = rawName.slice(0, 256);
    if (!NAME.test(name) || !VERSION.test(version)) continue;
    const origins = originText
      .split(",")
      .map((o) => o.trim())
      .filter(Boolean);
    const security = origins.some(isSecurityOrigin);
    updates.push({
      source: "apt",
      name,
      title: `${name} ${version}`.slice(0, 512),
      currentVersion: current.slice(0, 128),
      version,
      classification: security ? "security" : "other",
      severity: null,
      ids: [],
      origin: origins.join(", ").slice(0, 256) || null,
      sizeBytes: null,
      rebootRequired: null,
    });
  }
  return updates;
}

/** Split `name-[epoch:]version-release.arch` (rpm's NEVRA) from the right. */
export function splitNevra(nevra: string): { name: string; version: string; arch: string } | undefined {
  const dot = nevra.lastIndexOf(".");
  if (dot <= 0) return undefined;
  const arch = nevra.slice(dot + 1);
  const nvr = nevra.slice(0, dot);
  const r = nvr.lastIndexOf("-");
  const v = r > 0 ? nvr.lastIndexOf("-", r - 1) : -1;
  if (r <= 0 || v <= 0) return undefined;
  return { name: nvr.slice(0, v), version: nvr.slice(v + 1), arch };
}

/** The rpm query format the agent asks for (tab-separated: name, epoch, version, release, arch, vendor, install time). */
export const RPM_QUERY_FORMAT = "%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{VENDOR}\\t%{INSTALLTIME}\\n";

/**
 * `rpm -qa --queryformat RPM_QUERY_FORMAT`, or plain `rpm -qa` (one NEVRA per line). Epochs `(none)`
 * are left out of the version, `(none)` vendors become null; install times are epoch seconds.
 */
export function parseRpmQa(out: string): SoftwareItem[] {
  const items: SoftwareItem[] = [];
  for (const raw of out.split("\n")) {
    const l = raw.trim();
    if (!l) continue;
    const f = l.split("\t");
    if (f.length >= 7) {
      const [name = "", epoch, version, release, arch = "", vendor, time] = f;
      const ep = epoch && epoch !== "(none)" && epoch !== "0" ? `${epoch}:` : "";
      const t = Number(time);
      items.push({
        source: "rpm",
        name: name.slice(0, 256),
        version: `${ep}${version}-${release}`.slice(0, 128),
        arch: arch === "(none)" ? "" : arch.slice(0, 32),
        publisher: vendor && vendor !== "(none)" ? vendor.slice(0, 256) : null,
        installedAt: Number.isFinite(t) && t > 0 ? t * 1000 : null,
      });
      continue;
    }
    const n = splitNevra(l);
    if (n)
      items.push({
        source: "rpm",
        name: n.name.slice(0, 256),
        version: n.version.slice(0, 128),
        arch: n.arch.slice(0, 32),
        publisher: null,
        installedAt: null,
      });
  }
  return items;
}

/** dnf's advisory type and severity (`Important/Sec.`, `Critical/Sec.`, `bugfix`, `enhancement`) → classification. */
export function dnfClassification(kind: string): { classification: Classification; severity: string | null } {
  const [sev = "", type] = kind.split("/");
  if (type?.startsWith("Sec")) {
    const severity = sev && sev.toLowerCase() !== "unknown" && sev !== "None" ? sev : null;
    return { classification: severity?.toLowerCase() === "critical" ? "critical" : "security", severity };
  }
  if (kind === "enhancement" || kind === "newpackage") return { classification: "feature", severity: null };
  return { classification: "other", severity: null };
}

/**
 * `dnf updateinfo list --updates` (dnf 4): `ADVISORY  TYPE  NEVRA` per line, one package per advisory line
 * (a package under several advisories keeps the most severe and every id). Header lines are skipped.
 */
export function parseDnfUpdateinfo(out: string): PendingUpdate[] {
  const rank: Record<Classification, number> = { critical: 3, security: 2, feature: 1, other: 0 };
  const byName = new Map<string, PendingUpdate>();
  for (const l of out.split("\n")) {
    const m = /^(\S+)\s+(\S+)\s+(\S+\.\S+)\s*$/.exec(l.trim());
    if (!m) continue;
    const [, advisory = "", kind = "", nevra = ""] = m;
    if (!/^[A-Za-z0-9][A-Za-z0-9._:-]*-\d/.test(advisory) && !advisory.startsWith("CVE-")) continue;
    const n = splitNevra(nevra);
    if (!n || !NAME.test(n.name) || !VERSION.test(n.version)) continue;
    const c = dnfClassification(kind);
    const was = byName.get(n.name);
    if (was) {
      if (!was.ids.includes(advisory) && was.ids.length < 32) was.ids.push(advisory);
      if (rank[c.classification] > rank[was.classification]) Object.assign(was, c);
      continue;
    }
    byName.set(n.name, {
      source: "dnf",
      name: n.name,
      title: `${n.name} ${n.version}`,
      currentVersion: null,
      version: n.version,
      ...c,
      ids: [advisory.slice(0, 64)],
      origin: null,
      sizeBytes: null,
      rebootRequired: null,
    });
  }
  return [...byName.values()];
}

/**
 * `zypper list-patches` (its table: Repository | Name | Category | Severity | Interactive | Status | Summary):
 * needed patches. Category `security` with severity `critical` → critical; `security` → security;
 * `recommended` → other; `optional`/`feature` → feature. Patches are installed by name; their "version" is the patch name's.
 */
export function parseZypperPatches(out: string): PendingUpdate[] {
  const lines = out.split("\n");
  const header = lines.findIndex((l) => /^\s*Repository\s*\|\s*Name\s*\|/.test(l));
  if (header < 0) return [];
  const cols = (lines[header] ?? "").split("|").map((c) => c.trim().toLowerCase());
  const at = (name: string) => cols.indexOf(name);
  const updates: PendingUpdate[] = [];
  for (const l of lines.slice(header + 1)) {
    if (!l.includes("|")) continue;
    const f = l.split("|").map((c) => c.trim());
    const name = f[at("name")] ?? "";
    const category = (f[at("category")] ?? "").toLowerCase();
    const severity = f[at("severity")] ?? "";
    const status = (f[at("status")] ?? "needed").toLowerCase();
    if (!NAME.test(name) || (status && status !== "needed")) continue;
    const classification: Classification =
      category === "security"
        ? severity.toLowerCase() === "critical"
          ? "critical"
          : "security"
        : category === "recommended"
          ? "other"
          : "feature";
    const version = name.replace(/^.*-(\d+)$/, "$1");
    updates.push({
      source: "zypper",
      name,
      title: (f[at("summary")] || name).slice(0, 512),
      currentVersion: null,
      version: VERSION.test(version) ? version : "1",
      classification,
      severity: severity && severity !== "unspecified" ? severity.slice(0, 32) : null,
      ids: [name.slice(0, 64)],
      origin: (f[at("repository")] ?? "").slice(0, 256) || null,
      sizeBytes: null,
      rebootRequired: (f[at("interactive")] ?? "").toLowerCase().includes("reboot") || null,
    });
  }
  return updates;
}
