import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * An rpm-md repository and two scratch installroots built for a test with Debian's real rpm tools:
 * tiny noarch packages made with `rpmbuild`, version 1 of each installed into the roots with `rpm
 * --root`, version 2 published with `createrepo_c`, and an `updateinfo.xml` (advisories: a security
 * one with two CVEs, a critical security one needing a restart, a bug fix, an enhancement; one
 * package updated without any advisory) added with `modifyrepo_c`. dnf runs against one root
 * (`--installroot`, its own repos directory) and zypper against the other (`--root`, the repository
 * added there), so the machine's own package databases are never touched.
 */
export interface RpmRepo {
  dir: string;
  /** Global options that point dnf at its scratch root and the repository. */
  dnf: string[];
  /** Global options that point zypper at its scratch root (the repository is added there). */
  zypper: string[];
  /** `--root` options for rpm queries of the dnf root and the zypper root. */
  rpmDnf: string[];
  rpmZypper: string[];
  /** The installed version-release of a package in a root (rpm -q), or null. */
  installed(root: "dnf" | "zypper", name: string): string | null;
  cleanup(): void;
}

/** The programs the repository needs (Debian packages rpm, createrepo-c, dnf, zypper). */
export const RPM_TOOLS = ["rpmbuild", "rpm", "createrepo_c", "modifyrepo_c", "dnf", "zypper"] as const;

function run(argv: string[], cwd?: string): string {
  const p = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe", env: { ...process.env, LC_ALL: "C" }, ...(cwd ? { cwd } : {}) });
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")} exited ${p.exitCode}: ${p.stderr.toString().slice(0, 2000)}`);
  return p.stdout.toString();
}

const SPEC = `Name:           %{pkgname}
Version:        %{pkgversion}
Release:        1
Summary:        SENTpulse test package %{pkgname}
License:        MIT
Vendor:         SENTpulse Test
BuildArch:      noarch

%description
A tiny package made by the SENTpulse patch tests.

%install
mkdir -p %{buildroot}/opt/%{pkgname}
echo %{pkgversion} > %{buildroot}/opt/%{pkgname}/VERSION

%files
/opt/%{pkgname}/VERSION
`;

/** One advisory of updateinfo.xml. */
interface Advisory {
  id: string;
  type: "security" | "bugfix" | "enhancement";
  severity: string;
  title: string;
  pkg: string;
  version: string;
  cves: string[];
  bugs?: string[];
  reboot?: boolean;
}

function updateinfo(advisories: Advisory[]): string {
  const one = (a: Advisory) => `  <update from="tests@sentpulse.test" status="stable" type="${a.type}" version="2.0">
    <id>${a.id}</id>
    <title>${a.title}</title>
    <issued date="2026-11-20 10:00:00"/>
    <updated date="2026-11-21 10:00:00"/>
    <severity>${a.severity}</severity>
    <description>${a.title}.</description>${a.reboot ? "\n    <reboot_suggested>True</reboot_suggested>" : ""}
    <references>
${[
  ...a.cves.map((c) => `      <reference href="https://www.cve.org/CVERecord?id=${c}" id="${c}" type="cve" title="${c}"/>`),
  ...(a.bugs ?? []).map((b) => `      <reference href="https://bugs.example.com/${b}" id="${b}" type="bugzilla" title="bug ${b}"/>`),
].join("\n")}
    </references>
    <pkglist>
      <collection short="sptest">
        <name>SENTpulse test</name>
        <package name="${a.pkg}" version="${a.version}" release="1" epoch="0" arch="noarch" src="${a.pkg}-${a.version}-1.src.rpm">
          <filename>${a.pkg}-${a.version}-1.noarch.rpm</filename>${a.reboot ? "\n          <reboot_suggested>True</reboot_suggested>" : ""}
        </package>
      </collection>
    </pkglist>
  </update>`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<updates>\n${advisories.map(one).join("\n")}\n</updates>\n`;
}

/**
 * Builds the repository: packages `${prefix}-openssl` 1.0 → 1.1 (security, Important, two CVEs and a bug),
 * `${prefix}-kernel` 5.0 → 5.1 (security, Critical, one CVE, restart), `${prefix}-tool` 2.0 → 2.1 (bug
 * fix), `${prefix}-extra` 3.0 → 3.1 (enhancement), `${prefix}-plain` 1.0 → 1.1 (no advisory).
 * Advisory ids are `${ADV}-2026-000N` with ADV the prefix in capitals.
 */
export function rpmRepo(prefix = "sp"): RpmRepo {
  const dir = mkdtempSync(join(tmpdir(), "sentpulse-rpm-"));
  const adv = prefix.toUpperCase().replace(/[^A-Z0-9]/g, "");
  const pkgs: [string, string, string][] = [
    [`${prefix}-openssl`, "1.0", "1.1"],
    [`${prefix}-kernel`, "5.0", "5.1"],
    [`${prefix}-tool`, "2.0", "2.1"],
    [`${prefix}-extra`, "3.0", "3.1"],
    [`${prefix}-plain`, "1.0", "1.1"],
  ];
  writeFileSync(join(dir, "sp.spec"), SPEC);
  const rpmOf = (n: string, v: string) => join(dir, "build/RPMS/noarch", `${n}-${v}-1.noarch.rpm`);
  for (const [name, from, to] of pkgs)
    for (const v of [from, to])
      run([
        "rpmbuild",
        "-bb",
        "--quiet",
        "--define",
        `_topdir ${join(dir, "build")}`,
        "--define",
        `pkgname ${name}`,
        "--define",
        `pkgversion ${v}`,
        join(dir, "sp.spec"),
      ]);
  const repo = join(dir, "repo");
  mkdirSync(repo);
  for (const [name, , to] of pkgs) cpSync(rpmOf(name, to), join(repo, `${name}-${to}-1.noarch.rpm`));
  run(["createrepo_c", "-q", repo]);
  writeFileSync(
    join(dir, "updateinfo.xml"),
    updateinfo([
      {
        id: `${adv}-2026-0001`,
        type: "security",
        severity: "Important",
        title: `${prefix}-openssl security update`,
        pkg: `${prefix}-openssl`,
        version: "1.1",
        cves: ["CVE-2026-1001", "CVE-2026-1002"],
        bugs: ["1001"],
      },
      {
        id: `${adv}-2026-0002`,
        type: "security",
        severity: "Critical",
        title: `${prefix}-kernel critical security update`,
        pkg: `${prefix}-kernel`,
        version: "5.1",
        cves: ["CVE-2026-2001"],
        reboot: true,
      },
      {
        id: `${adv}-2026-0003`,
        type: "bugfix",
        severity: "None",
        title: `${prefix}-tool bug fix update`,
        pkg: `${prefix}-tool`,
        version: "2.1",
        cves: [],
      },
      {
        id: `${adv}-2026-0004`,
        type: "enhancement",
        severity: "None",
        title: `${prefix}-extra enhancement update`,
        pkg: `${prefix}-extra`,
        version: "3.1",
        cves: [],
      },
    ]),
  );
  run(["modifyrepo_c", "--mdtype=updateinfo", join(dir, "updateinfo.xml"), join(repo, "repodata")]);

  const dnfRoot = join(dir, "dnf-root");
  const zypperRoot = join(dir, "zypper-root");
  for (const root of [dnfRoot, zypperRoot]) {
    mkdirSync(root);
    run(["rpm", "--root", root, "--initdb"]);
    run(["rpm", "--root", root, "-i", "--nodeps", ...pkgs.map(([n, from]) => rpmOf(n, from))]);
  }
  mkdirSync(join(dir, "repos.d"));
  writeFileSync(
    join(dir, "repos.d/sptest.repo"),
    `[sptest]\nname=SENTpulse test repository\nbaseurl=file://${repo}\nenabled=1\ngpgcheck=0\n`,
  );
  run(["zypper", "--root", zypperRoot, "-n", "addrepo", "-G", `file://${repo}`, "sptest"]);

  const rpmQ = (root: string, name: string) => {
    const p = Bun.spawnSync(["rpm", "--root", root, "-q", "--queryformat", "%{VERSION}-%{RELEASE}", name], {
      stdout: "pipe",
      stderr: "pipe",
    });
    return p.exitCode === 0 ? p.stdout.toString().trim() : null;
  };
  return {
    dir,
    dnf: [`--installroot=${dnfRoot}`, `--setopt=reposdir=${join(dir, "repos.d")}`, "--releasever=1"],
    zypper: ["--root", zypperRoot],
    rpmDnf: ["--root", dnfRoot],
    rpmZypper: ["--root", zypperRoot],
    installed: (root, name) => rpmQ(root === "dnf" ? dnfRoot : zypperRoot, name),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
