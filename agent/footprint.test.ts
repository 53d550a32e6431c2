import { describe, expect, test } from "bun:test";
import { Footprint } from "./footprint.ts";
import { linux } from "./platform/linux.ts";

/** The real Linux release, counted. */
const counted = () => {
  const calls: string[] = [];
  return {
    calls,
    platform: {
      releasePages: async (how: "evict" | "unmap") => {
        calls.push(how);
        const release = linux.releasePages;
        if (!release) throw new Error("Linux releases pages");
        return release(how);
      },
    },
  };
};

describe("keeping the idle agent small", () => {
  test("releases once quiet, again while it stays quiet, and never after stop", async () => {
    const { calls, platform } = counted();
    const f = new Footprint(platform, 50, 100);
    f.start();
    await Bun.sleep(30);
    expect(calls.length).toBe(0);
    await Bun.sleep(300);
    f.stop();
    expect(calls.length).toBeGreaterThanOrEqual(2);
    // the first evicts from the page cache, the repeats only unmap
    expect(calls.slice(0, 2)).toEqual(["evict", "unmap"]);
    const seen = calls.length;
    await Bun.sleep(250);
    expect(calls.length).toBe(seen);
  });

  test("a technician's activity puts the release off until it has been quiet again", async () => {
    const { calls, platform } = counted();
    const f = new Footprint(platform, 120, 10_000);
    f.start();
    for (let i = 0; i < 5; i++) {
      await Bun.sleep(50);
      f.activity();
    }
    expect(calls.length).toBe(0);
    await Bun.sleep(250);
    f.stop();
    expect(calls.length).toBe(1);
  });

  test("0 never releases", async () => {
    const { calls, platform } = counted();
    const f = new Footprint(platform, 0, 10);
    f.start();
    f.activity();
    await Bun.sleep(100);
    f.stop();
    expect(calls).toEqual([]);
  });
});
