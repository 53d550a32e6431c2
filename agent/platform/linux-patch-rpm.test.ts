import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PendingUpdate } from "../../server/protocol/patch.ts";
import { RPM_TOOLS, type RpmRepo, rpmRepo } from "../../server/testing/rpm-repo.ts";
import { runStreaming } from "../patch/stream.ts";
import { expectValid } from "../test-data/helpers.ts";
import { dnfPending, installArgv, type PackageRoots, zypperPending } from "./linux-patch.ts";

/**
 * The agent's dnf and zypper paths run for real: Debian's dnf 4 and zypper against an rpm-md
 * repository with security advisories that the test builds (server/testing/rpm-repo.ts), each in a
 * scratch root where version 1 of the packages is installed. The scan's commands are the agent's own
 * (with the roots' global options in front), and so are the install's argument vectors.
 */
const missing = RPM_TOOLS.filter((t) => Bun.which(t) === null);
let repo: RpmRepo;
let dnfRoots: PackageRoots;
let zypperRoots: PackageRoots;

beforeAll(() => {
  if (missing.length > 0)
    throw new Error(`missing ${missing.join(", ")}: install Debian's rpm, createrepo-c, dnf and zypper (.ci/run does)`);
  repo = rpmRepo(prefix);
  dnfRoots = { dnf: repo.dnf, zypper: [], rpm: repo.rpmDnf };
  zypperRoots = { dnf: [], zypper: repo.zypper, rpm: repo.rpmZypper };
}, 120_000);
afterAll(() => repo?.cleanup());

/** The packages' prefix, new per run (`${prefix}-openssl` …). */
const prefix = `sp${crypto.randomUUID().slice(0, 4)}`;
const name = (suffix: string) => `${prefix}-${suffix}`;

describe("dnf, for real", () => {
  test("a scan reports every pending update with its advisory, severity, CVEs and installed version", async () => {
    const scan = await dnfPending(true, dnfRoots);
    expect(scan.problems).toEqual([]);
    for (const u of scan.updates) expectValid(PendingUpdate(u));
    const by = (s: string) => scan.updates.find((u) => u.name === name(s));
    expect(scan.updates).toHaveLength(5);
    expect(by("openssl")).toMatchObject({
      currentVersion: "1.0-1",
      version: "1.1-1",
      classification: "security",
      severity: "Important",
      ids: [expect.stringMatching(/-2026-0001$/), "CVE-2026-1001", "CVE-2026-1002"],
    });
    expect(by("kernel")).toMatchObject({ classification: "critical", ids: [expect.any(String), "CVE-2026-2001"] });
    expect(by("plain")).toMatchObject({ classification: "other", ids: [], version: "1.1-1" });
  }, 120_000);

  test("the install's argument vector upgrades exactly that version; a rescan no longer lists it", async () => {
    const out: string[] = [];
    const r = await runStreaming(
      installArgv({ source: "dnf", name: name("openssl"), version: "1.1-1" }, dnfRoots),
      { LC_ALL: "C" },
      (_, t) => out.push(t),
      120_000,
    );
    expect(r).toEqual({ ok: true, exitCode: 0 });
    expect(repo.installed("dnf", name("openssl"))).toBe("1.1-1");
    expect(repo.installed("dnf", name("kernel"))).toBe("5.0-1");
    const again = await dnfPending(false, dnfRoots);
    expect(again.updates.map((u) => u.name)).not.toContain(name("openssl"));
    expect(again.updates).toHaveLength(4);
  }, 120_000);

  test("a version the repository does not have fails alone, with dnf's own words, and installs nothing", async () => {
    const out: string[] = [];
    const r = await runStreaming(
      installArgv({ source: "dnf", name: name("tool"), version: "9.9-1" }, dnfRoots),
      { LC_ALL: "C" },
      (_, t) => out.push(t),
      120_000,
    );
    expect(r.ok).toBe(false);
    expect(out.join("")).toMatch(/No match for argument|No package/i);
    expect(repo.installed("dnf", name("tool"))).toBe("2.0-1");
  }, 120_000);
});

describe("zypper, for real", () => {
  test("a scan reports the applicable patches with category, severity, restart and CVE ids", async () => {
    const scan = await zypperPending(true, zypperRoots);
    expect(scan.problems).toEqual([]);
    for (const u of scan.updates) expectValid(PendingUpdate(u));
    expect(scan.updates.map((u) => [u.classification, u.rebootRequired])).toEqual([
      ["security", false],
      ["critical", true],
      ["other", false],
      ["feature", false],
    ]);
    expect(scan.updates[0]?.ids.slice(1)).toEqual(["CVE-2026-1001", "CVE-2026-1002", "bugzilla#1001"]);
  }, 120_000);

  test("installing a patch by name updates its package; the patch is then no longer applicable", async () => {
    const patch = (await zypperPending(false, zypperRoots)).updates[0];
    if (!patch) throw new Error("no patch");
    const r = await runStreaming(installArgv(patch, zypperRoots), { LC_ALL: "C" }, () => {}, 120_000);
    expect(r).toEqual({ ok: true, exitCode: 0 });
    expect(repo.installed("zypper", name("openssl"))).toBe("1.1-1");
    const again = await zypperPending(false, zypperRoots);
    expect(again.updates.map((u) => u.name)).not.toContain(patch.name);
  }, 120_000);
});
