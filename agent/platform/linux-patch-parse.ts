import { XMLParser } from "fast-xml-parser";
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

const RANK: Record<Classification, number> = { critical: 3, security: 2, feature: 1, other: 0 };
/** Advisory ids a source gives per update, at most (the wire's limit). */
const MAX_IDS = 32;

/** One package advisory line: the advisory (or CVE) id, its type/severity, the package's name and version. */
interface AdvisoryLine {
  id: string;
  kind: string;
  name: string;
  version: string;
}

/** dnf 5's advisory type and severity columns (cut to the column's width: `secu`, `Importan`) → dnf 4's kind. */
function dnf5Kind(type: string, severity: string): string {
  const t = type.toLowerCase();
  if (t.startsWith("secu")) {
    const sev = ["Critical", "Important", "Moderate", "Low"].find(
      (x) => severity.length >= 3 && x.toLowerCase().startsWith(severity.toLowerCase()),
    );
    return `${sev ?? "Unknown"}/Sec.`;
  }
  if (t.startsWith("bugf")) return "bugfix";
  if (t.startsWith("enha")) return "enhancement";
  if (t.startsWith("newp")) return "newpackage";
  return "unspecified";
}

/**
 * `dnf updateinfo list --updates`: dnf 4 prints `ADVISORY  TYPE  NEVRA` per line (TYPE `Important/Sec.`,
 * `bugfix`…), dnf 5 (Fedora 41 on, `updateinfo` is its `advisory`) `NAME TYPE SEVERITY NEVRA ISSUED`
 * with type and severity cut to their columns (`secu Importan`). One package per line; with
 * `--with-cve` the first column is a CVE id instead (a line per CVE). Headings are skipped.
 */
export function parseDnfAdvisoryLines(out: string): AdvisoryLine[] {
  const lines: AdvisoryLine[] = [];
  for (const l of out.split("\n")) {
    const dnf5 = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+\.\S+)\s+\d{4}-\d{2}-\d{2}(?:\s+\d{2}:\d{2}(?::\d{2})?)?\s*$/.exec(l.trim());
    const m = dnf5 ? [dnf5[0], dnf5[1], dnf5Kind(dnf5[2] ?? "", dnf5[3] ?? ""), dnf5[4]] : /^(\S+)\s+(\S+)\s+(\S+\.\S+)\s*$/.exec(l.trim());
    if (!m) continue;
    const [, id = "", kind = "", nevra = ""] = m;
    if (!/^[A-Za-z0-9][A-Za-z0-9._:-]*-\d/.test(id)) continue;
    const n = splitNevra(nevra);
    if (!n || !NAME.test(n.name) || !VERSION.test(n.version)) continue;
    lines.push({ id: id.slice(0, 64), kind, name: n.name, version: n.version });
  }
  return lines;
}

/**
 * `dnf updateinfo list --updates` alone (the advisories' packages): one update per package, keeping
 * the most severe advisory's classification and every advisory id.
 */
export function parseDnfUpdateinfo(out: string): PendingUpdate[] {
  return mergeDnf([], parseDnfAdvisoryLines(out), [], new Map());
}

/** One line of `dnf check-update`: a package with a newer version in a repository. */
export interface DnfAvailable {
  name: string;
  arch: string;
  version: string;
  repo: string;
}

/**
 * `dnf check-update` (exit code 100 when there are updates): `name.arch  [epoch:]version-release  repo`
 * per line. A long name is printed alone on its line with the rest on the next; the "Obsoleting
 * Packages" section that may follow is not a list of updates and ends the read.
 */
export function parseDnfCheckUpdate(out: string): DnfAvailable[] {
  const found: DnfAvailable[] = [];
  const lines = out.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const l = (lines[i] ?? "").trim();
    if (/^Obsoleting Packages/i.test(l)) break;
    let f = l.split(/\s+/);
    if (f.length === 1 && f[0] && /\.\w+$/.test(f[0])) {
      const next = (lines[i + 1] ?? "").trim().split(/\s+/);
      if (next.length === 2) {
        f = [f[0], ...next];
        i++;
      }
    }
    if (f.length !== 3) continue;
    const [na = "", version = "", repo = ""] = f;
    const dot = na.lastIndexOf(".");
    if (dot <= 0 || !/^[\w.+~:-]+-[\w.+~]+$/.test(version)) continue;
    const name = na.slice(0, dot);
    if (!NAME.test(name) || !VERSION.test(version)) continue;
    found.push({ name, arch: na.slice(dot + 1), version, repo: repo.slice(0, 256) });
  }
  return found;
}

/**
 * dnf's pending updates: every package `check-update` lists (classification other, from its
 * repository), classified by the advisories that name it (the most severe wins; each advisory id and
 * each CVE id kept), plus advisory packages check-update did not list. `installed` maps a package
 * name to its installed version (rpm), for the "from" version.
 */
export function mergeDnf(
  available: DnfAvailable[],
  advisories: AdvisoryLine[],
  cves: AdvisoryLine[],
  installed: Map<string, string>,
): PendingUpdate[] {
  const byName = new Map<string, PendingUpdate>();
  const entry = (name: string, version: string, origin: string | null): PendingUpdate => {
    let u = byName.get(name);
    if (!u) {
      u = {
        source: "dnf",
        name,
        title: `${name} ${version}`.slice(0, 512),
        currentVersion: installed.get(name)?.slice(0, 128) ?? null,
        version,
        classification: "other",
        severity: null,
        ids: [],
        origin,
        sizeBytes: null,
        rebootRequired: null,
      };
      byName.set(name, u);
    }
    return u;
  };
  const addId = (u: PendingUpdate, id: string) => {
    if (!u.ids.includes(id) && u.ids.length < MAX_IDS) u.ids.push(id);
  };
  for (const a of available) entry(a.name, a.version, a.repo || null);
  for (const a of advisories) {
    const u = entry(a.name, a.version, null);
    addId(u, a.id);
    const c = dnfClassification(a.kind);
    if (
      RANK[c.classification] > RANK[u.classification] ||
      (u.severity === null && c.severity !== null && c.classification === u.classification)
    )
      Object.assign(u, c);
  }
  for (const c of cves) {
    const u = byName.get(c.name);
    if (u) addId(u, c.id);
  }
  return [...byName.values()];
}

/** A zypper patch's category and severity → classification. */
function zypperClassification(category: string, severity: string): Classification {
  const cat = category.toLowerCase();
  if (cat === "security") return severity.toLowerCase() === "critical" ? "critical" : "security";
  if (cat === "recommended" || cat === "bugfix") return "other";
  return "feature";
}

const xml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "",
  isArray: (name) => ["update", "issue", "message"].includes(name),
  processEntities: true,
});

interface ZypperIssue {
  type?: string;
  id?: string | number;
}
interface ZypperUpdate {
  kind?: string;
  name?: string;
  edition?: string | number;
  status?: string;
  category?: string;
  severity?: string;
  restart?: string;
  summary?: string | number;
  source?: { alias?: string };
  "issue-list"?: { issue?: ZypperIssue[] } | "";
}

/**
 * `zypper --xmlout list-patches`: the applicable patches (status needed, or optional for
 * enhancements zypper does not install by default), each with its category, severity, whether it needs
 * a restart, and its issues (CVE ids first, then the other references such as bugzilla numbers).
 * A patch is installed by its name; its version is the patch's edition.
 */
export function parseZypperPatches(out: string): PendingUpdate[] {
  const doc = xml.parse(out) as { stream?: { "update-status"?: { "update-list"?: { update?: ZypperUpdate[] } } } };
  const list = doc.stream?.["update-status"]?.["update-list"]?.update ?? [];
  const updates: PendingUpdate[] = [];
  for (const p of list) {
    const name = String(p.name ?? "");
    const status = String(p.status ?? "").toLowerCase();
    const version = String(p.edition ?? "1");
    if (p.kind !== "patch" || !NAME.test(name) || (status !== "needed" && status !== "optional")) continue;
    const severity = String(p.severity ?? "");
    const issues = typeof p["issue-list"] === "object" ? (p["issue-list"].issue ?? []) : [];
    const cves = issues.filter((i) => i.type === "cve").map((i) => String(i.id ?? ""));
    const others = issues.filter((i) => i.type !== "cve").map((i) => `${i.type ?? "ref"}#${String(i.id ?? "")}`);
    updates.push({
      source: "zypper",
      name,
      title: String(p.summary ?? name).slice(0, 512) || name,
      currentVersion: null,
      version: VERSION.test(version) ? version : "1",
      classification: zypperClassification(String(p.category ?? ""), severity),
      severity: severity && !["none", "unspecified"].includes(severity.toLowerCase()) ? severity.slice(0, 32) : null,
      ids: [name, ...cves, ...others]
        .filter((x) => x.length > 0)
        .slice(0, MAX_IDS)
        .map((x) => x.slice(0, 64)),
      origin: p.source?.alias ? String(p.source.alias).slice(0, 256) : null,
      sizeBytes: null,
      rebootRequired: p.restart === "true",
    });
  }
  return updates;
}
