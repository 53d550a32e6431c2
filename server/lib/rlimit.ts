import { dlopen, FFIType, ptr } from "bun:ffi";
import { readFileSync } from "node:fs";

export interface FileLimit {
  /** The soft limit before this process raised it. */
  before: number;
  /** The soft limit now: descriptors (files, sockets) this process may hold. */
  soft: number;
  /** The hard limit (Infinity when unlimited): the ceiling an unprivileged process may raise to. */
  hard: number;
}

/** Node.js and Bun raise no higher than this, so children reading the limit into an int still work. */
const CEILING = 1 << 20;
/** `RLIMIT_NOFILE` in <sys/resource.h>. */
const RLIMIT_NOFILE: Partial<Record<NodeJS.Platform, number>> = { linux: 7, darwin: 8 };
const LIBC: Partial<Record<NodeJS.Platform, string>> = { linux: "libc.so.6", darwin: "libSystem.B.dylib" };

const toNumber = (v: bigint) => (v >= 2n ** 62n ? Number.POSITIVE_INFINITY : Number(v));

/**
 * Raises the soft open-file limit to the hard one (at most 2²⁰) with libc's `setrlimit` through
 * `bun:ffi`, and reports both. Bun itself raises it when it starts; this makes it explicit (and
 * covers a runtime that did not), and gives the figures to log. Windows has no such limit: undefined.
 * Where libc cannot be loaded, Linux's limits are read from /proc (not raised).
 */
export function raiseFileLimit(platform: NodeJS.Platform = process.platform): FileLimit | undefined {
  const resource = RLIMIT_NOFILE[platform];
  const libc = LIBC[platform];
  if (resource === undefined || libc === undefined) return undefined;
  let lib: ReturnType<typeof open>;
  try {
    lib = open(libc);
  } catch {
    return platform === "linux" ? procLimit() : undefined;
  }
  try {
    const buf = new BigUint64Array(2);
    if (lib.symbols.getrlimit(resource, ptr(buf)) !== 0) return undefined;
    const before = buf[0] ?? 0n;
    const hard = buf[1] ?? 0n;
    const target = hard < BigInt(CEILING) ? hard : BigInt(CEILING);
    let soft = before;
    if (before < target) {
      buf[0] = target;
      if (lib.symbols.setrlimit(resource, ptr(buf)) === 0) soft = target;
    }
    return { before: toNumber(before), soft: toNumber(soft), hard: toNumber(hard) };
  } finally {
    lib.close();
  }
}

function open(libc: string) {
  return dlopen(libc, {
    getrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    setrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  });
}

/** The open-file limits of this process from /proc/self/limits (Linux). */
function procLimit(): FileLimit | undefined {
  const line = readFileSync("/proc/self/limits", "utf8")
    .split("\n")
    .find((l) => l.startsWith("Max open files"));
  const m = line && /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(line);
  if (!m) return undefined;
  const n = (s: string | undefined) => (s === "unlimited" ? Number.POSITIVE_INFINITY : Number(s));
  return { before: n(m[1]), soft: n(m[1]), hard: n(m[2]) };
}
