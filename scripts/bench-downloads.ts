/**
 * Bytes on the wire per agent download: each target's binary and its compressed copies as
 * `scripts/build-agents` leaves them in dist/agent (exactly the bodies /download/agent/:target
 * sends), and what each installer fetches on a stock system (scripts/lib/agent-downloads.ts). Prints a
 * Markdown table for docs/benchmarks.md with the budget (≤ 40 MB, DESIGN.md) as pass/fail for that case.
 *
 *   scripts/build-agents && bun scripts/bench-downloads.ts
 */
import { installerDownloads } from "./lib/agent-downloads.ts";

/** 40 MB as the issue counts: bytes on the wire, MB = 10^6 bytes (its 110.7 MB binary is 105.6 MiB). */
const BUDGET = 40_000_000;
const mb = (n: number | undefined) => (n === undefined ? "—" : `${(n / 1e6).toFixed(2)} MB`);

console.log("| target | binary | gzip -9 | xz -9 | tar.xz | bcj2 | installer fetches | budget ≤ 40 MB |");
console.log("|---|---|---|---|---|---|---|---|");
for (const d of installerDownloads()) {
  if (d.binary === undefined) {
    console.log(`| ${d.target} | not built | | | | | | |`);
    continue;
  }
  const pass = d.bytes !== undefined && d.bytes <= BUDGET ? "pass" : "FAIL";
  console.log(
    `| ${d.target} | ${mb(d.binary)} | ${mb(d.gzip)} | ${mb(d.xz)} | ${mb(d.txz)} | ${mb(d.bcj2)} | ${mb(d.bytes)} ${d.how} | ${pass} |`,
  );
}
