import { closeSync, fsyncSync, openSync, readFileSync, readlinkSync } from "node:fs";

/**
 * madvise(2) advice that reclaims the given pages now (Linux 5.4+). Clean file-backed pages (the
 * runtime's code, read from the binary on demand) leave the process and the page cache and are read
 * back from the file on the next touch; pages the process wrote (relocations) stay, or go to swap
 * where there is swap: nothing is lost. Pages another process also maps are left alone.
 */
const MADV_PAGEOUT = 21;

/** One read-only mapping of the executable: start address and length in bytes. */
export interface Mapping {
  start: bigint;
  length: bigint;
}

/**
 * The read-only mappings of `exe` in a `/proc/PID/maps` text (its code and constants; writable data
 * is never touched). A compiled agent's are ~110 MB of address space, of which the start-up code
 * leaves ~35 MB resident that an idle agent never runs again (docs/benchmarks.md).
 */
export function executableMappings(maps: string, exe: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of maps.split("\n")) {
    // 5612b9a00000-5612b9b00000 r-xp 00000000 fd:01 1234   /path/with spaces
    const m = /^([0-9a-f]+)-([0-9a-f]+) (r[-w][-x][ps]) [0-9a-f]+ \S+ \d+ +(.*)$/.exec(line);
    if (!m || m[4] !== exe || m[3]?.[1] === "w") continue;
    const start = BigInt(`0x${m[1]}`);
    const end = BigInt(`0x${m[2]}`);
    if (end > start) out.push({ start, length: end - start });
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
 * Gives the pages of this process's own executable back to the OS (MADV_PAGEOUT on each read-only
 * mapping). The idle loop touches ~12 MB of the runtime's code again; the rest stays out until a
 * technician uses something that needs it. libc is reached through bun:ffi, loaded for the call only.
 */
export async function releaseExecutablePages(): Promise<Released> {
  const exe = readlinkSync("/proc/self/exe");
  // a binary installed moments ago may still be dirty in the page cache, and dirty pages are not dropped
  const fd = openSync(exe, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  const mappings = executableMappings(readFileSync("/proc/self/maps", "utf8"), exe);
  const { dlopen, FFIType } = await import("bun:ffi");
  const libc = dlopen("libc.so.6", {
    madvise: { args: [FFIType.u64, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  });
  try {
    let bytes = 0;
    let advised = 0;
    let error: string | undefined;
    for (const m of mappings) {
      if (libc.symbols.madvise(m.start, m.length, MADV_PAGEOUT) === 0) {
        advised++;
        bytes += Number(m.length);
      } else error ??= "madvise refused MADV_PAGEOUT (Linux before 5.4?)";
    }
    return { mappings: advised, bytes, ...(error ? { error } : {}) };
  } finally {
    libc.close();
  }
}
