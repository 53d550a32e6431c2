import { describe, expect, test } from "bun:test";
import { testData } from "../test-data/helpers.ts";
import { isWholeDisk, parseDiskstats, parseMounts, statMount, unescapeMountField } from "./disk.ts";
import { ratesBetween } from "./rate.ts";

describe("parseMounts", () => {
  test("recorded container mounts: only the ext4 root survives", () => {
    expect(parseMounts(testData("linux", "mounts"))).toEqual([{ device: "/dev/vda", mount: "/", fs: "ext4" }]);
  });

  test("workstation: drops pseudo, snap, network and fuse mounts, keeps each device once", () => {
    expect(parseMounts(testData("linux", "mounts-workstation.txt"))).toEqual([
      { device: "/dev/nvme0n1p2", mount: "/", fs: "ext4" },
      { device: "/dev/nvme0n1p1", mount: "/boot/efi", fs: "vfat" },
      { device: "/dev/mapper/vg0-home", mount: "/home", fs: "ext4" },
      { device: "/dev/sda1", mount: "/srv/data", fs: "btrfs" },
      { device: "overlay", mount: "/var/lib/docker/overlay2/3f6c1e0b9a7d/merged", fs: "overlay" },
      { device: "/dev/sdb1", mount: "/media/alice/My Passport", fs: "exfat" },
    ]);
  });

  test("unescapes octal escapes in mount points", () => {
    expect(unescapeMountField("/mnt/a\\040b\\011c\\134d")).toBe("/mnt/a b\tc\\d");
    expect(unescapeMountField("/plain")).toBe("/plain");
  });
});

describe("statMount", () => {
  test("the root filesystem of this machine has sizes and inodes", () => {
    const root = statMount({ device: "root", mount: "/", fs: "ext4" }, "bfree");
    expect(root?.totalBytes).toBeGreaterThan(0);
    expect(root?.usedBytes).toBeGreaterThan(0);
    expect(root?.usedBytes).toBeLessThanOrEqual(root?.totalBytes ?? 0);
    expect(root?.inodesUsed).toBeGreaterThan(0);
  });

  test("counting bavail as free reports at least as much used as bfree", () => {
    const bfree = statMount({ device: "r", mount: "/", fs: "ext4" }, "bfree");
    const bavail = statMount({ device: "r", mount: "/", fs: "ext4" }, "bavail");
    expect(bavail?.usedBytes).toBeGreaterThanOrEqual(bfree?.usedBytes ?? Number.POSITIVE_INFINITY);
  });

  test("a mount point that vanished is skipped, not thrown", () => {
    expect(statMount({ device: "x", mount: "/nonexistent/sentpulse", fs: "ext4" }, "bfree")).toBeUndefined();
  });
});

describe("disk IO", () => {
  test("whole disks only", () => {
    for (const name of ["sda", "vdb", "hdc", "xvda", "nvme0n1", "nvme12n3", "mmcblk0", "sdaa"]) {
      expect(isWholeDisk(name)).toBe(true);
    }
    for (const name of ["sda1", "nvme0n1p2", "mmcblk0p1", "loop0", "dm-0", "md127", "zram0", "ram0", "sr0"]) {
      expect(isWholeDisk(name)).toBe(false);
    }
  });

  test("recorded /proc/diskstats: vda in bytes (512-byte sectors), loop and zram ignored", () => {
    expect(parseDiskstats(testData("linux", "diskstats.1"))).toEqual([{ name: "vda", inBytes: 1099778 * 512, outBytes: 1277640 * 512 }]);
  });

  test("rates between the recorded snapshots one second apart", () => {
    const prev = new Map(parseDiskstats(testData("linux", "diskstats.1")).map((c) => [c.name, c]));
    const rates = ratesBetween(prev, parseDiskstats(testData("linux", "diskstats.2")), 1);
    expect(rates).toEqual([{ name: "vda", inBps: 33512 * 512, outBps: 65544 * 512 }]);
  });

  test("partitions of a disk are not counted on top of the disk", () => {
    const text = [
      " 259       0 nvme0n1 100 0 2000 0 50 0 4000 0 0 0 0 0 0 0 0 0 0",
      " 259       1 nvme0n1p1 10 0 200 0 5 0 400 0 0 0 0 0 0 0 0 0 0",
      " 253       0 dm-0 90 0 1800 0 45 0 3600 0 0 0 0 0 0 0 0 0 0",
    ].join("\n");
    expect(parseDiskstats(text)).toEqual([{ name: "nvme0n1", inBytes: 2000 * 512, outBytes: 4000 * 512 }]);
  });
});
