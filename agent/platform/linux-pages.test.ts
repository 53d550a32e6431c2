import { describe, expect, test } from "bun:test";
import { readFileSync, readlinkSync } from "node:fs";
import { executableMappings, releaseExecutablePages } from "./linux-pages.ts";

describe("returning the executable's once-used pages (Linux)", () => {
  test("finds the read-only mappings of this process's own binary, never a writable one", () => {
    const exe = readlinkSync("/proc/self/exe");
    const maps = readFileSync("/proc/self/smaps", "utf8");
    const found = executableMappings(maps, exe);
    expect(found.length).toBeGreaterThanOrEqual(2);
    const lines = maps.split("\n").filter((l) => l.endsWith(` ${exe}`));
    const writable = lines.filter((l) => l.split(" ")[1]?.[1] === "w").map((l) => BigInt(`0x${l.split("-")[0]}`));
    expect(writable.length).toBeGreaterThan(0);
    for (const m of found) {
      expect(m.length).toBeGreaterThan(0n);
      expect(writable).not.toContain(m.start);
    }
  });

  test("paths with spaces, other files' mappings and the pages a mapping has written are told apart", () => {
    const smaps = [
      "55d0c0a00000-55d0c0b00000 r--p 00000000 fd:01 42                         /opt/my agent/sentpulse-agent",
      "Rss:                 512 kB",
      "Anonymous:            12 kB",
      "55d0c0b00000-55d0c2000000 r-xp 00100000 fd:01 42                         /opt/my agent/sentpulse-agent",
      "Anonymous:             0 kB",
      "55d0c2000000-55d0c2100000 rw-p 01500000 fd:01 42                         /opt/my agent/sentpulse-agent",
      "Anonymous:           800 kB",
      "7f0000000000-7f0000100000 r-xp 00000000 fd:01 77                         /usr/lib/x86_64-linux-gnu/libc.so.6",
      "Anonymous:             0 kB",
      "7f0000200000-7f0000300000 rw-p 00000000 00:00 0 ",
      "Anonymous:          1024 kB",
    ].join("\n");
    expect(executableMappings(smaps, "/opt/my agent/sentpulse-agent")).toEqual([
      { start: 0x55d0c0a00000n, length: 0x100000n, anonymousKb: 12 },
      { start: 0x55d0c0b00000n, length: 0x1500000n, anonymousKb: 0 },
    ]);
    expect(executableMappings(smaps, "/opt/my")).toEqual([]);
  });

  test("madvise (DONTNEED where never written, else PAGEOUT) is accepted for each of them, and this process keeps running", async () => {
    for (const how of ["evict", "unmap"] as const) {
      const r = await releaseExecutablePages(how);
      expect(r.error).toBeUndefined();
      expect(r.mappings).toBeGreaterThanOrEqual(2);
      expect(r.bytes).toBeGreaterThan(0);
    }
    // code that was paged out runs again (read back from the file)
    expect(JSON.parse(JSON.stringify({ a: [1, 2, 3] }))).toEqual({ a: [1, 2, 3] });
  });
});
