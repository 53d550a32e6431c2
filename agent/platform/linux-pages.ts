import { closeSync, fsyncSync, openSync, readFileSync, readlinkSync } from "node:fs";

/**
 * madvise(2) advice. MADV_DONTNEED unmaps the pages: for a mapping of the file that this process
 * never wrote (no anonymous copy-on-write pages), the next touch maps them again from the page cache
 * (a minor fault, no disk read). MADV_PAGEOUT (Linux 5.4+) reclaims them instead, and keeps pages the
 * process wrote (relocations in the read-only data): the safe advice for a mapping that has some.
 * Pages another process also maps are left alone by PAGEOUT.
 */
const MADV_DONTNEED = 4;
const MADV_PAGEOUT = 21;

/** One read-only mapping of the executable: start address, length in bytes, anonymous (written) kB. */
export interface Mapping {
  start: bigint;
  length: bigint;
  anonymousKb: number;
}

/**
 * The read-only mappings of `exe` in a `/proc/PID/smaps` text (its code and constants; writable data
 * is never touched). A compiled agent's are ~110 MB of address space, of which the start-up code
 * leaves ~35 MB resident that an idle agent never runs again (docs/benchmarks.md).
 */
export function executableMappings(smaps: string, exe: string): Mapping[] {
  const out: Mapping[] = [];
  let current: Mapping | undefined;
  for (const line of smaps.split("\n")) {
    // 5612b9a00000-5612b9b00000 r-xp 00000000 fd:01 1234   /path/with spaces
    const m = /^([0-9a-f]+)-([0-9a-f]+) (r[-w][-x][ps]) [0-9a-f]+ \S+ \d+ +(.*)$/.exec(line);
    if (m) {
      current = undefined;
      const start = BigInt(`0x${m[1]}`);
      const end = BigInt(`0x${m[2]}`);
      if (m[4] !== exe || m[3]?.[1] === "w" || end <= start) continue;
      current = { start, length: end - start, anonymousKb: 0 };
      out.push(current);
    } else if (current && line.startsWith("Anonymous:")) current.anonymousKb = Number(/(\d+)/.exec(line)?.[1] ?? 0);
  }
  return out;
}

/** What one release did: mappings advised, their bytes of address space, and the first error if any. */
export interface Released {
  mappings: number;
  bytes: number;
  error?: string;
}

/**
 * Gives the pages of this process's own executable back to the OS. `evict` (MADV_PAGEOUT) takes them
 * out of the page cache too, so the idle loop reads its ~12 MB back from disk once, and nothing else
 * is mapped with it (~28 MB RSS after). `unmap` (MADV_DONTNEED on each mapping the process never wrote)
 * leaves the page cache as it is: touching a page again reads nothing from disk, but maps its cached
 * neighbours too (fault-around), so it is for the repeats, once the cache holds only what the loop
 * uses. libc is reached through bun:ffi, loaded for the call only.
 */
export async function releaseExecutablePages(how: "evict" | "unmap" = "evict"): Promise<Released> {
  const exe = readlinkSync("/proc/self/exe");
  // a binary installed moments ago may still be dirty in the page cache, and PAGEOUT keeps dirty pages
  const fd = openSync(exe, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  const mappings = executableMappings(readFileSync("/proc/self/smaps", "utf8"), exe);
  const { dlopen, FFIType } = await import("bun:ffi");
  const libc = dlopen("libc.so.6", {
    madvise: { args: [FFIType.u64, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  });
  try {
    let bytes = 0;
    let advised = 0;
    let error: string | undefined;
    for (const m of mappings) {
      const advice = how === "unmap" && m.anonymousKb === 0 ? MADV_DONTNEED : MADV_PAGEOUT;
      if (libc.symbols.madvise(m.start, m.length, advice) === 0) {
        advised++;
        bytes += Number(m.length);
      } else error ??= `madvise refused ${advice === MADV_PAGEOUT ? "MADV_PAGEOUT (Linux before 5.4?)" : "MADV_DONTNEED"}`;
    }
    return { mappings: advised, bytes, ...(error ? { error } : {}) };
  } finally {
    libc.close();
  }
}
