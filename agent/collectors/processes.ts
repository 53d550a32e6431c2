import { readdirSync } from "node:fs";

/** Counts the entries of a /proc listing that are process ids (all digits). */
export function countPids(names: readonly string[]): number {
  let n = 0;
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

/** Number of processes (not threads) currently alive, from the numeric directories of /proc. */
export function readProcessCount(procDir = "/proc"): number {
  return countPids(readdirSync(procDir));
}
