/**
 * Bytes on the wire per agent download: each target's binary and its gzip and xz copies as
 * `scripts/build-agents` leaves them in dist/agent (exactly the bodies /download/agent/:target
 * sends), and what each installer fetches on a stock system (install.sh: xz where the `xz` program
 * exists, as on Debian, Ubuntu and RHEL; on macOS, which has none, the xz-compressed tar its own tar
 * reads; install.ps1: gzip). Prints a Markdown table for docs/benchmarks.md with the budget
 * (≤ 40 MB, DESIGN.md) as pass/fail for that stock case.
 *
 *   scripts/build-agents && bun scripts/bench-downloads.ts
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { AGENT_TARGETS, agentFileName } from "../server/ops/downloads.ts";

const DIR = join(import.meta.dir, "..", "dist", "agent");
const BUDGET = 40 * 1024 * 1024;
const mb = (n: number | undefined) => (n === undefined ? "—" : `${(n / 1024 / 1024).toFixed(1)} MB`);
const size = (path: string) => (existsSync(path) ? statSync(path).size : undefined);

console.log("| target | binary | gzip -9 | xz -9 | tar.xz | installer fetches | budget ≤ 40 MB |");
console.log("|---|---|---|---|---|---|---|");
for (const target of AGENT_TARGETS) {
  const bin = join(DIR, agentFileName(target));
  const raw = size(bin);
  if (raw === undefined) {
    console.log(`| ${target} | not built | | | | | |`);
    continue;
  }
  const gz = size(`${bin}.gz`);
  const xz = size(`${bin}.xz`);
  const txz = size(`${bin}.tar.xz`);
  // Windows' installer unpacks gzip (.NET GZipStream); install.sh takes xz where `xz` exists (Linux),
  // else the tar.xz where tar reads xz itself (macOS), else gzip
  const [wire, how] = target.startsWith("windows")
    ? [gz, "gzip (install.ps1)"]
    : target.startsWith("linux") && xz
      ? [xz, "xz (install.sh)"]
      : target.startsWith("darwin") && txz
        ? [txz, "tar.xz (install.sh, macOS tar)"]
        : [gz, "gzip (install.sh)"];
  const pass = wire !== undefined && wire <= BUDGET ? "pass" : "FAIL";
  console.log(`| ${target} | ${mb(raw)} | ${mb(gz)} | ${mb(xz)} | ${mb(txz)} | ${mb(wire)} ${how} | ${pass} |`);
}
