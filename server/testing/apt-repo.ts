import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A file-based apt repository built for a test: tiny packages made with dpkg-deb, indexed with
 * dpkg-scanpackages (dpkg-dev), in one suite whose Release names its origin, label and suite (a
 * `*-security` suite is a security pocket). apt is pointed at it through `APT_CONFIG` (a config file of
 * the repository's own holding its sources list, list and archive directories), so the machine's
 * apt sources and lists are never touched; only dpkg's database changes, through the packages the test
 * installs, and `cleanup()` purges them.
 */
export interface AptRepo {
  dir: string;
  /** The apt configuration to hand apt (and the agent) as APT_CONFIG. */
  aptConfig: string;
  /** Installs version `version` of a package built here with dpkg -i (the machine's real dpkg). */
  installLocal(name: string, version: string): void;
  /** The installed version of a package (dpkg-query), or null. */
  installedVersion(name: string): string | null;
  cleanup(): void;
}

function run(argv: string[], env: Record<string, string> = {}, cwd?: string): string {
  const p = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env }, ...(cwd ? { cwd } : {}) });
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")} exited ${p.exitCode}: ${p.stderr.toString().slice(0, 2000)}`);
  return p.stdout.toString();
}

/** Builds `name_version_all.deb` (an empty package with a file in /usr/share/doc) into `out`. */
function buildDeb(root: string, out: string, name: string, version: string): string {
  const pkg = join(root, `build-${name}-${version}`);
  mkdirSync(join(pkg, "DEBIAN"), { recursive: true });
  mkdirSync(join(pkg, "usr/share/doc", name), { recursive: true });
  writeFileSync(join(pkg, "usr/share/doc", name, "VERSION"), `${version}\n`);
  writeFileSync(
    join(pkg, "DEBIAN/control"),
    `Package: ${name}\nVersion: ${version}\nArchitecture: all\nMaintainer: SENTpulse tests <tests@example.com>\nSection: misc\nPriority: optional\nDescription: SENTpulse patch test package\n a tiny package made by the patch acceptance test\n`,
  );
  const deb = join(out, `${name}_${version}_all.deb`);
  run(["dpkg-deb", "--root-owner-group", "--build", pkg, deb]);
  return deb;
}

/**
 * Creates the repository: each of `packages` at version `from` built locally (to install with
 * installLocal) and at `to` published in suite `suite` (e.g. `stable-security`).
 */
export function aptRepo(o: { packages: string[]; from: string; to: string; suite: string; origin: string }): AptRepo {
  const dir = mkdtempSync(join(tmpdir(), "sentpulse-apt-"));
  const local = join(dir, "local");
  const pool = join(dir, "repo/pool");
  for (const d of [
    local,
    pool,
    "lists/partial",
    "archives/partial",
    "sources.list.d",
    `repo/dists/${o.suite}/main/binary-all`,
    `repo/dists/${o.suite}/main/binary-amd64`,
  ])
    mkdirSync(d.startsWith("/") ? d : join(dir, d), { recursive: true });
  for (const p of o.packages) {
    buildDeb(dir, local, p, o.from);
    buildDeb(dir, pool, p, o.to);
  }
  writeFileSync(
    join(dir, `repo/dists/${o.suite}/main/binary-all/Packages`),
    run(["dpkg-scanpackages", "--multiversion", "pool", "/dev/null"], {}, join(dir, "repo")),
  );
  writeFileSync(join(dir, `repo/dists/${o.suite}/main/binary-amd64/Packages`), "");
  writeFileSync(
    join(dir, `repo/dists/${o.suite}/Release`),
    `Origin: ${o.origin}\nLabel: ${o.origin}\nSuite: ${o.suite}\nCodename: ${o.suite}\nDate: ${new Date().toUTCString()}\nArchitectures: all amd64\nComponents: main\nDescription: SENTpulse patch test repository\n`,
  );
  writeFileSync(join(dir, "sources.list"), `deb [trusted=yes] file:${dir}/repo ${o.suite} main\n`);
  const aptConfig = join(dir, "apt.conf");
  writeFileSync(
    aptConfig,
    [
      `Dir::Etc::SourceList "${dir}/sources.list";`,
      `Dir::Etc::SourceParts "${dir}/sources.list.d";`,
      `Dir::State::Lists "${dir}/lists";`,
      `Dir::Cache::Archives "${dir}/archives";`,
      `Dir::Cache::pkgcache "";`,
      `Dir::Cache::srcpkgcache "";`,
      "",
    ].join("\n"),
  );
  const installed: string[] = [];
  return {
    dir,
    aptConfig,
    installLocal(name, version) {
      run(["dpkg", "-i", join(local, `${name}_${version}_all.deb`)], { DEBIAN_FRONTEND: "noninteractive" });
      installed.push(name);
    },
    installedVersion(name) {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own ${field} syntax
      const p = Bun.spawnSync(["dpkg-query", "-W", "-f", "${Version}\\t${db:Status-Abbrev}", name], { stdout: "pipe", stderr: "pipe" });
      const [version, status] = p.stdout.toString().split("\t");
      return p.exitCode === 0 && status?.startsWith("ii") ? (version ?? null) : null;
    },
    cleanup() {
      for (const name of new Set(installed)) Bun.spawnSync(["dpkg", "--purge", name], { stdout: "ignore", stderr: "ignore" });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
