import type { MountEntry } from "../collectors/disk.ts";
import type { ByteCounters } from "../collectors/rate.ts";

/**
 * Memory in use from `vm_stat`, in bytes, as Activity Monitor counts it: app memory (anonymous
 * pages that are not purgeable) + wired + pages held by the compressor. Cached files are not used.
 */
export function parseVmStatUsed(text: string): number {
  const pageSize = Number(/page size of (\d+) bytes/.exec(text)?.[1] ?? 4096);
  const pages = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^"?([^":]+)"?:\s+(\d+)\.?\s*$/.exec(line);
    if (m?.[1] !== undefined) pages.set(m[1], Number(m[2]));
  }
  const get = (key: string) => pages.get(key) ?? 0;
  const app = Math.max(0, get("Anonymous pages") - get("Pages purgeable"));
  return (app + get("Pages wired down") + get("Pages occupied by compressor")) * pageSize;
}

const UNIT_BYTES: Record<string, number> = { B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** Swap total and used bytes from `sysctl vm.swapusage` ("total = 3072.00M  used = 2094.25M ..."). */
export function parseSwapUsage(text: string): { totalBytes: number; usedBytes: number } {
  const size = (key: string) => {
    const m = new RegExp(`${key} = ([\\d.]+)([BKMGT])`).exec(text);
    return m === null ? 0 : Math.round(Number(m[1]) * (UNIT_BYTES[m[2] ?? "B"] ?? 1));
  };
  return { totalBytes: size("total"), usedBytes: size("used") };
}

/**
 * Cumulative bytes per interface from `netstat -ibn`: one `<Link#N>` row per interface, counted
 * from the right because the Address column is empty for some. Skips loopback and interfaces
 * that are down (name marked with `*`).
 */
export function parseNetstatIbn(text: string): ByteCounters[] {
  const out: ByteCounters[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    const name = f[0];
    if (name === undefined || !f[2]?.startsWith("<Link#") || name.endsWith("*") || name.startsWith("lo")) continue;
    const n = f.length;
    out.push({ name, inBytes: Number(f[n - 5] ?? 0), outBytes: Number(f[n - 2] ?? 0) });
  }
  return out;
}

/** Bytes read (inBytes) and written (outBytes) since boot summed over every IOBlockStorageDriver in `ioreg` output. */
export function parseIoregDiskBytes(text: string): ByteCounters {
  let inBytes = 0;
  let outBytes = 0;
  for (const m of text.matchAll(/"Bytes \((Read|Write)\)"=(\d+)/g)) {
    if (m[1] === "Read") inBytes += Number(m[2]);
    else outBytes += Number(m[2]);
  }
  return { name: "all", inBytes, outBytes };
}

/**
 * Local, browsable filesystems from `mount` ("<device> on <mount> (<type>, <options>)"), one per
 * device. This drops the sealed system's helper volumes (VM, Preboot, Data: all `nobrowse`),
 * devfs, autofs and network shares; "/" stays and stands for its whole APFS container.
 */
export function parseMacMount(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  const seen = new Set<string>();
  for (const line of text.split("\n")) {
    const m = /^(.+?) on (.+) \(([^,)]+)((?:, [^,)]+)*)\)$/.exec(line);
    if (m === null) continue;
    const [, device = "", mount = "", fs = "", rest = ""] = m;
    const options = rest.split(", ");
    if (!options.includes("local") || options.includes("nobrowse") || fs === "devfs" || seen.has(device)) continue;
    seen.add(device);
    out.push({ device, mount, fs });
  }
  return out;
}

/** macOS product name and version with build from `sw_vers`, e.g. "macOS", "14.4.1 (23E224)". */
export function parseSwVers(text: string): { osName: string; osVersion: string } {
  const get = (key: string) => new RegExp(`^${key}:\\s*(.+)$`, "m").exec(text)?.[1]?.trim() ?? "";
  const build = get("BuildVersion");
  const version = get("ProductVersion");
  return { osName: get("ProductName") || "macOS", osVersion: build ? `${version} (${build})` : version };
}

/** The hardware serial (IOPlatformSerialNumber) from `ioreg -rd1 -c IOPlatformExpertDevice`, "" when absent. */
export function parseIoregSerial(text: string): string {
  return /"IOPlatformSerialNumber" = "([^"]*)"/.exec(text)?.[1] ?? "";
}

/** Number of non-empty lines, e.g. processes in `ps -A -o pid=` output. */
export function countLines(text: string): number {
  let n = 0;
  for (const line of text.split("\n")) if (line.trim() !== "") n++;
  return n;
}
