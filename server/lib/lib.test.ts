import { describe, expect, test } from "bun:test";
import { Histogram } from "./histogram.ts";
import { fixedLimit, pageRows } from "./limits.store.ts";
import { loopDelay, loopWatchers, watchLoopDelay } from "./loop-delay.ts";
import { RateLimiter } from "./rate-limit.ts";

describe("histogram", () => {
  test("percentiles land within a bucket of the truth", () => {
    const h = new Histogram();
    for (let i = 1; i <= 1000; i++) h.record(i / 10); // 0.1 … 100 ms
    expect(h.percentile(50)).toBeGreaterThan(50 * 0.88);
    expect(h.percentile(50)).toBeLessThan(50 * 1.13);
    expect(h.percentile(99)).toBeGreaterThan(99 * 0.88);
    expect(h.summary().count).toBe(1000);
    expect(h.summary().maxMs).toBe(100);
    h.reset();
    expect(h.summary().p99Ms).toBe(0);
    expect(h.summary().maxMs).toBe(0);
  });
});

describe("event-loop delay", () => {
  test("a loop held for 150 ms is recorded as about that late; probing stops with its last watcher", async () => {
    const others = loopWatchers(); // servers of other test files still running in this process
    const stop = watchLoopDelay();
    const again = watchLoopDelay(); // a second server in the process shares the probe
    expect(loopWatchers()).toBe(others + 2);
    await Bun.sleep(50);
    loopDelay.reset();
    const until = performance.now() + 150;
    while (performance.now() < until) {} // held: no timer runs
    await Bun.sleep(60);
    expect(loopDelay.summary().maxMs).toBeGreaterThan(100);
    expect(loopDelay.summary().maxMs).toBeLessThan(300);
    stop();
    stop(); // twice is once
    expect(loopWatchers()).toBe(others + 1);
    const counted = loopDelay.count;
    await Bun.sleep(60);
    expect(loopDelay.count).toBeGreaterThan(counted); // the other watcher still probes
    again();
    expect(loopWatchers()).toBe(others);
    if (others === 0) {
      const last = loopDelay.count;
      await Bun.sleep(80);
      expect(loopDelay.count).toBe(last);
    }
  });
});

describe("rate limiter", () => {
  test("limits per key per window and stays bounded in size", () => {
    const r = new RateLimiter(2, 1000, 3);
    expect([r.hit("a", 0), r.hit("a", 1), r.hit("a", 2)]).toEqual([true, true, false]);
    expect(r.blocked("a", 3)).toBe(true);
    expect(r.hit("a", 1001)).toBe(true);
    for (const k of ["b", "c", "d", "e"]) r.hit(k, 1002);
    expect(r.blocked("a", 1003)).toBe(false); // evicted as the oldest
  });
});

describe("page limits in statements", () => {
  test("a client's page size is rounded up to 1, 2 or 5 times a power of ten, so every size of 1–500 makes 9 statements", () => {
    // only the statement text matters here: sql.unsafe's argument
    const text = { unsafe: (s: string) => s } as unknown as Parameters<typeof pageRows>[0];
    const limitOf = (n: number) => pageRows(text, n).limit as unknown as string;
    expect([1, 3, 6, 49, 50, 51, 101, 201, 500].map(limitOf)).toEqual(["1", "5", "10", "50", "50", "100", "200", "500", "500"]);
    expect(new Set(Array.from({ length: 500 }, (_, i) => limitOf(i + 1))).size).toBe(9);
    expect(pageRows(text, 3).take([1, 2, 3, 4, 5])).toEqual([1, 2, 3]);
    expect(() => pageRows(text, 1.5)).toThrow();
    expect(() => fixedLimit(text, -1)).toThrow();
  });
});
