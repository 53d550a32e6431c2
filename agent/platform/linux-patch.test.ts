import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PatchInstallSpec, PendingUpdate, SoftwareItem } from "../../server/protocol/patch.ts";
import { expectValid } from "../test-data/helpers.ts";
import { installArgv } from "./linux-patch.ts";
import {
  dnfClassification,
  isSecurityOrigin,
  parseAptSimulate,
  parseDnfUpdateinfo,
  parseDpkgQuery,
  parseRpmQa,
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

describe("rpm", () => {
  test("NEVRA split from the right (epochs, dotted releases)", () => {
    expect(splitNevra("dhcp-client-12:4.4.2-11.b1.fc34.x86_64")).toEqual({
      name: "dhcp-client",
      version: "12:4.4.2-11.b1.fc34",
      arch: "x86_64",
    });
    expect(splitNevra("polkit-libs-0.117-3.fc34.1.x86_64")).toEqual({ name: "polkit-libs", version: "0.117-3.fc34.1", arch: "x86_64" });
  });
  test("the agent's query format: epoch folded into the version, (none) vendor null, install time in ms", () => {
    const [i] = parseRpmQa(
      "bash\t(none)\t5.1.8\t6.el9\tx86_64\tRed Hat, Inc.\t1700000000\nopenssl\t1\t3.0.7\t24.el9\tx86_64\t(none)\t1700000001\n",
    );
    expect(i).toEqual({
      source: "rpm",
      name: "bash",
      version: "5.1.8-6.el9",
      arch: "x86_64",
      publisher: "Red Hat, Inc.",
      installedAt: 1_700_000_000_000,
    });
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
