import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PatchInstallSpec, PendingUpdate, SoftwareItem } from "../../server/protocol/patch.ts";
import { expectValid } from "../test-data/helpers.ts";
import { installArgv } from "./linux-patch.ts";
import {
  dnfClassification,
  isSecurityOrigin,
  mergeDnf,
  parseAptSimulate,
  parseDnfAdvisoryLines,
  parseDnfCheckUpdate,
  parseDnfUpdateinfo,
  parseDpkgQuery,
  parseRpmQa,
  parseZypperPatches,
  splitNevra,
} from "./linux-patch-parse.ts";

const sample = (name: string) => readFileSync(join(import.meta.dir, "../test-data/patch/linux", name), "utf8");

describe("apt: pending updates from a real simulation (Debian 12, 128 upgrades)", () => {
  const out = sample("apt-get-s-dist-upgrade.debian12.txt");
  const updates = parseAptSimulate(out);

  test("one update per Inst line that upgrades an installed package, each valid on the wire", () => {
    const inst = out.split("\n").filter((l) => l.startsWith("Inst "));
    expect(updates).toHaveLength(inst.length);
    expect(updates.length).toBe(128);
    for (const u of updates) expectValid(PendingUpdate(u));
  });

  test("security pockets (…-security) are security, the rest other", () => {
    const security = out.split("\n").filter((l) => l.startsWith("Inst ") && /Debian-Security:/.test(l)).length;
    expect(updates.filter((u) => u.classification === "security")).toHaveLength(security);
    expect(updates.find((u) => u.name === "libgcrypt20-dev")).toMatchObject({
      currentVersion: "1.10.1-3",
      version: "1.10.1-3+deb12u1",
      classification: "security",
      origin: "Debian:12.15/oldstable, Debian-Security:12/oldstable-security",
    });
    expect(updates.find((u) => u.name === "base-files")).toMatchObject({
      currentVersion: "12.4+deb12u11",
      version: "12.4+deb12u15",
      classification: "other",
    });
  });

  test("origins recognised as security", () => {
    expect(isSecurityOrigin("Debian-Security:12/stable-security")).toBe(true);
    expect(isSecurityOrigin("Ubuntu:22.04/jammy-security")).toBe(true);
    expect(isSecurityOrigin("SENTpulse-Test:stable-security")).toBe(true);
    expect(isSecurityOrigin("Debian:12.15/oldstable")).toBe(false);
    expect(isSecurityOrigin("Ubuntu:22.04/jammy-updates")).toBe(false);
  });

  test("a new package pulled in (no [current]) is not an update; a name with shell metacharacters is dropped", () => {
    const lines = [
      "Inst linux-image-6.1.0-28-amd64 (6.1.119-1 Debian:12.15/oldstable [amd64])",
      "Inst evil;reboot [1.0] (2.0 Debian-Security:12/stable-security [all])",
      "Inst ok-pkg [1.0] (2.0 Debian-Security:12/stable-security [all])",
    ].join("\n");
    expect(parseAptSimulate(lines).map((u) => u.name)).toEqual(["ok-pkg"]);
  });
});

describe("dpkg-query: installed packages (Debian 12, 842 packages)", () => {
  const items = parseDpkgQuery(sample("dpkg-query.debian12.txt"));
  test("every installed package, valid on the wire", () => {
    expect(items).toHaveLength(842);
    for (const i of items.slice(0, 50)) expectValid(SoftwareItem(i));
    expect(items.find((i) => i.name === "bash")).toMatchObject({
      source: "dpkg",
      version: "5.2.15-2+b8",
      arch: "amd64",
      publisher: expect.stringContaining("Matthias Klose"),
    });
  });
  test("packages removed with their config left (rc) are not installed", () => {
    expect(parseDpkgQuery("foo\t1.0\tall\tMe <me@example.com>\trc \nbar\t2.0\tall\tMe <me@example.com>\tii ")).toHaveLength(1);
  });
});

describe("dnf: advisories of a real Fedora 34 (updateinfo list --security)", () => {
  const updates = parseDnfUpdateinfo(sample("dnf-updateinfo-list-security.fedora34.txt"));
  test("one update per package, its advisory, severity and classification", () => {
    expect(updates).toHaveLength(16);
    for (const u of updates) expectValid(PendingUpdate(u));
    expect(updates.find((u) => u.name === "kernel-core")).toMatchObject({
      version: "5.13.4-200.fc34",
      classification: "critical",
      severity: "Critical",
      ids: ["FEDORA-2021-07dc0b3eb1"],
    });
    expect(updates.find((u) => u.name === "dhcp-client")).toMatchObject({
      version: "12:4.4.2-11.b1.fc34",
      classification: "security",
      severity: "Important",
    });
    expect(updates.find((u) => u.name === "krb5-libs")?.severity).toBe("Low");
  });
  test("advisory types", () => {
    expect(dnfClassification("bugfix").classification).toBe("other");
    expect(dnfClassification("enhancement").classification).toBe("feature");
    expect(dnfClassification("Moderate/Sec.")).toEqual({ classification: "security", severity: "Moderate" });
  });
});

describe("rpm, dnf and zypper: real output of Debian's rpm 4.18, dnf 4.14 and zypper 1.14 on a repository built here", () => {
  const installed = parseRpmQa(sample("rpm-qa-queryformat.sptest.txt"));
  test("rpm -qa with the agent's query format: (none) epochs left out, vendor, install time in ms", () => {
    expect(installed).toHaveLength(5);
    for (const i of installed) expectValid(SoftwareItem(i));
    expect(installed.find((i) => i.name === "sp-openssl")).toEqual({
      source: "rpm",
      name: "sp-openssl",
      version: "1.0-1",
      arch: "noarch",
      publisher: "SENTpulse Test",
      installedAt: 1_796_157_816_000,
    });
  });
  test("dnf check-update: every package with a newer version, advisory or not", () => {
    expect(parseDnfCheckUpdate(sample("dnf-check-update.sptest.txt"))).toEqual([
      { name: "sp-extra", arch: "noarch", version: "3.1-1", repo: "sptest" },
      { name: "sp-kernel", arch: "noarch", version: "5.1-1", repo: "sptest" },
      { name: "sp-openssl", arch: "noarch", version: "1.1-1", repo: "sptest" },
      { name: "sp-plain", arch: "noarch", version: "1.1-1", repo: "sptest" },
      { name: "sp-tool", arch: "noarch", version: "2.1-1", repo: "sptest" },
    ]);
  });
  test("merged with updateinfo and its CVEs: classification, severity, advisory and CVE ids, the installed version", () => {
    const ups = mergeDnf(
      parseDnfCheckUpdate(sample("dnf-check-update.sptest.txt")),
      parseDnfAdvisoryLines(sample("dnf-updateinfo-list.sptest.txt")),
      parseDnfAdvisoryLines(sample("dnf-updateinfo-list-with-cve.sptest.txt")),
      new Map(installed.map((i) => [i.name, i.version])),
    );
    for (const u of ups) expectValid(PendingUpdate(u));
    const by = (n: string) => ups.find((u) => u.name === n);
    expect(ups).toHaveLength(5);
    expect(by("sp-openssl")).toMatchObject({
      currentVersion: "1.0-1",
      version: "1.1-1",
      classification: "security",
      severity: "Important",
      ids: ["SP-2026-0001", "CVE-2026-1001", "CVE-2026-1002"],
      origin: "sptest",
    });
    expect(by("sp-kernel")).toMatchObject({ classification: "critical", severity: "Critical", ids: ["SP-2026-0002", "CVE-2026-2001"] });
    expect(by("sp-tool")).toMatchObject({ classification: "other", ids: ["SP-2026-0003"] });
    expect(by("sp-extra")).toMatchObject({ classification: "feature", ids: ["SP-2026-0004"] });
    expect(by("sp-plain")).toMatchObject({ classification: "other", ids: [], currentVersion: "1.0-1" });
  });
  test("dnf 5 on Fedora 44 (check-upgrade, its `Upgrades` heading; recorded by mql): epochs kept, a long name on one line, two arches of one name", () => {
    const found = parseDnfCheckUpdate(sample("dnf5-check-upgrade.fedora44.mql.txt"));
    expect(found).toHaveLength(19);
    expect(found[0]).toEqual({
      name: "g03-a-very-long-package-name-that-exceeds-the-check-update-column-width",
      arch: "x86_64",
      version: "2.0-1",
      repo: "g03repo",
    });
    expect(found.find((a) => a.name === "g03-epoch")?.version).toBe("3:2.0-1");
    expect(found.find((a) => a.name === "grub2-common")).toEqual({
      name: "grub2-common",
      arch: "noarch",
      version: "1:2.12-66.fc44",
      repo: "updates",
    });
    expect(found.filter((a) => a.name === "g03-multi").map((a) => a.arch)).toEqual(["i686", "x86_64"]);
    // one update per name (dnf upgrade NAME-VERSION takes every installed arch)
    const ups = mergeDnf(found, [], [], new Map());
    expect(ups).toHaveLength(18);
    for (const u of ups) expectValid(PendingUpdate(u));
  });
  test("dnf 5's advisory list (Fedora 40, dnf5 issue 1501): type and severity cut to their columns are read", () => {
    const lines = parseDnfAdvisoryLines(sample("dnf5-advisory-list.fedora40.dnf5-1501.txt"));
    expect(lines).toHaveLength(9);
    const ups = mergeDnf([], lines, [], new Map());
    for (const u of ups) expectValid(PendingUpdate(u));
    const by = (n: string) => ups.find((u) => u.name === n);
    expect(by("glib2-debugsource")).toMatchObject({
      version: "2.80.2-1.fc40",
      classification: "security",
      severity: "Important",
      ids: ["FEDORA-2024-635a54eb7e"],
    });
    expect(by("gcc-debuginfo")).toMatchObject({ classification: "other", ids: ["FEDORA-2024-27b58399dc"] });
    expect(by("libzstd-debuginfo")?.classification).toBe("feature");
    expect(by("libcap-debuginfo")?.classification).toBe("other");
  });
  test("a long name dnf prints alone on its line, and the Obsoleting Packages section, are read right", () => {
    const out =
      "\nlibdnf-plugin-subscription-manager.x86_64\n                          1.29.50-1.el9   rhel-9-baseos\nbash.x86_64  5.1.8-9.el9  baseos\nObsoleting Packages\ngrub2-tools.x86_64  1:2.06-1.el9  baseos\n";
    expect(parseDnfCheckUpdate(out).map((a) => `${a.name} ${a.version}`)).toEqual([
      "libdnf-plugin-subscription-manager 1.29.50-1.el9",
      "bash 5.1.8-9.el9",
    ]);
  });
  test("zypper --xmlout list-patches: needed and optional patches with category, severity, restart and CVE ids", () => {
    const ups = parseZypperPatches(sample("zypper-xmlout-list-patches.sptest.xml"));
    for (const u of ups) expectValid(PendingUpdate(u));
    expect(ups.map((u) => [u.name, u.classification, u.severity, u.rebootRequired])).toEqual([
      ["SP-2026-0001", "security", "important", false],
      ["SP-2026-0002", "critical", "critical", true],
      ["SP-2026-0003", "other", null, false],
      ["SP-2026-0004", "feature", null, false],
    ]);
    expect(ups[0]).toMatchObject({
      title: "sp-openssl security update",
      version: "2.0",
      ids: ["SP-2026-0001", "CVE-2026-1001", "CVE-2026-1002", "bugzilla#1001"],
      origin: "sptest",
    });
    // the table zypper prints for people says the same
    const table = sample("zypper-list-patches.sptest.txt");
    for (const u of ups) expect(table).toContain(u.name);
  });
});

describe("rpm", () => {
  test("NEVRA split from the right (epochs, dotted releases)", () => {
    expect(splitNevra("dhcp-client-12:4.4.2-11.b1.fc34.x86_64")).toEqual({
      name: "dhcp-client",
      version: "12:4.4.2-11.b1.fc34",
      arch: "x86_64",
    });
    expect(splitNevra("polkit-libs-0.117-3.fc34.1.x86_64")).toEqual({ name: "polkit-libs", version: "0.117-3.fc34.1", arch: "x86_64" });
  });
  test("an epoch other than none is folded into the version; a (none) vendor is null", () => {
    expect(parseRpmQa("openssl\t1\t3.0.7\t24.el9\tx86_64\t(none)\t1700000001\n")[0]).toMatchObject({
      version: "1:3.0.7-24.el9",
      publisher: null,
    });
  });
});

describe("installing: argument vectors only", () => {
  test("apt installs exactly the version, never prompting, waiting for the dpkg lock", () => {
    expect(installArgv({ source: "apt", name: "openssl", version: "3.0.17-1~deb12u2" })).toEqual([
      "apt-get",
      "install",
      "--only-upgrade",
      "-y",
      "-q",
      "-o",
      "DPkg::Lock::Timeout=120",
      "-o",
      "Dpkg::Options::=--force-confold",
      "openssl=3.0.17-1~deb12u2",
    ]);
    expect(installArgv({ source: "dnf", name: "kernel-core", version: "5.13.4-200.fc34" })).toEqual([
      "dnf",
      "-y",
      "upgrade",
      "kernel-core-5.13.4-200.fc34",
    ]);
  });
  test("the wire refuses a package name or version with shell metacharacters before anything is built", () => {
    const spec = (name: string, version = "1.0") => ({
      kind: "patch_install",
      updates: [{ source: "apt", name, version }],
      reboot: "never",
      rebootDelaySeconds: 0,
      timeoutSeconds: 60,
    });
    expectValid(PatchInstallSpec(spec("openssl")));
    for (const bad of ["openssl; reboot", "$(id)", "a|b", "-oAPT::x=1", "a b", "`x`"])
      expect(PatchInstallSpec(spec(bad)).toString()).toContain("name");
    expect(PatchInstallSpec(spec("openssl", "1.0;rm")).toString()).toContain("version");
  });
});
