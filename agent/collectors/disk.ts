import { statfsSync } from "node:fs";
import type { MountSample } from "../../server/protocol/telemetry.ts";
import type { ByteCounters } from "./rate.ts";

/** One line of a mount table: the device, where it is mounted, and the filesystem type. */
export interface MountEntry {
  device: string;
  mount: string;
  fs: string;
}

/** Filesystem types that hold no user data (kernel views, memory-backed, images) or may hang statfs (network). */
const SKIPPED_FS = new Set([
  "autofs",
  "binfmt_misc",
  "bpf",
  "cgroup",
  "cgroup2",
  "cifs",
  "configfs",
  "debugfs",
  "devpts",
  "devtmpfs",
  "efivarfs",
  "fuse.gvfsd-fuse",
  "fuse.lxcfs",
  "fuse.portal",
  "fuse.sshfs",
  "fusectl",
  "hugetlbfs",
  "iso9660",
  "mqueue",
  "nfs",
  "nfs4",
  "nfsd",
  "nsfs",
  "proc",
  "pstore",
  "ramfs",
  "rpc_pipefs",
  "securityfs",
  "selinuxfs",
  "smb3",
  "smbfs",
  "squashfs",
  "sysfs",
  "tmpfs",
  "tracefs",
]);

/** Undoes the octal escapes (`\040` space, `\011` tab, `\012` newline, `\134` backslash) of /proc mount tables. */
export function unescapeMountField(s: string): string {
  return s.includes("\\") ? s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))) : s;
}

/**
 * Parses /proc/self/mounts and keeps real filesystems: pseudo, memory-backed, image and network
 * types are dropped, and each device is kept once (its first mount), so bind mounts and btrfs
 * subvolumes are not counted twice.
 */
export function parseMounts(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  const seen = new Set<string>();
  for (const line of text.split("\n")) {
    const [device, mount, fs] = line.split(" ", 3);
    if (device === undefined || mount === undefined || fs === undefined) continue;
    if (SKIPPED_FS.has(fs) || seen.has(device)) continue;
    seen.add(device);
    out.push({ device, mount: unescapeMountField(mount), fs });
  }
  return out;
}

/** Which statfs field counts as free when computing used bytes: `bfree` like df (Linux), or `bavail`. */
export type FreeField = "bfree" | "bavail";

/** Sizes (bytes) and inodes of one mounted filesystem; undefined when it is empty or cannot be read. */
export function statMount(entry: MountEntry, free: FreeField): MountSample | undefined {
  let s: ReturnType<typeof statfsSync>;
  try {
    s = statfsSync(entry.mount);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== undefined) return undefined;
    throw e;
  }
  if (s.blocks <= 0) return undefined;
  const sample: MountSample = {
    mount: entry.mount.slice(0, 512),
    fs: entry.fs.slice(0, 64),
    totalBytes: s.blocks * s.bsize,
    usedBytes: Math.max(0, s.blocks - s[free]) * s.bsize,
  };
  if (s.files > 0) {
    sample.inodesTotal = s.files;
    sample.inodesUsed = Math.max(0, s.files - s.ffree);
  }
  return sample;
}

const WHOLE_DISK = /^(?:[shv]d[a-z]+|xvd[a-z]+|nvme\d+n\d+|mmcblk\d+)$/;

/** Whole disks by kernel name (not partitions, loop, RAM, zram, device-mapper or md devices layered on them). */
export function isWholeDisk(name: string): boolean {
  return WHOLE_DISK.test(name);
}

/**
 * Parses /proc/diskstats into cumulative bytes read (inBytes) and written (outBytes) per whole
 * disk. Sector counts in this file are always 512-byte units, whatever the device's sector size.
 */
export function parseDiskstats(text: string): ByteCounters[] {
  const out: ByteCounters[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    const name = f[2];
    if (name === undefined || !isWholeDisk(name)) continue;
    out.push({ name, inBytes: Number(f[5] ?? 0) * 512, outBytes: Number(f[9] ?? 0) * 512 });
  }
  return out;
}
