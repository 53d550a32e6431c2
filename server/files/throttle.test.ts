import { describe, expect, test } from "bun:test";
import { MAX_CHUNK_BYTES } from "../protocol/files.ts";
import { MIN_CHUNK, RttGovernor, TokenBucket } from "./throttle.ts";

/** A clock the test moves by hand. */
function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("token bucket", () => {
  test("bytes go at the rate: over any window at most rate × window plus one chunk", () => {
    const c = clock();
    const b = new TokenBucket(1_000_000, c.now);
    let sent = 0;
    // a sender that sends 64 KB chunks as soon as the bucket allows, for 20 simulated seconds
    while (c.now() < 20_000) {
      const wait = b.take(65_536);
      c.advance(wait);
      if (c.now() >= 20_000) break;
      sent += 65_536;
    }
    expect(sent).toBeLessThanOrEqual(20 * 1_000_000 + 65_536);
    expect(sent).toBeGreaterThanOrEqual(20 * 1_000_000 - 65_536);
  });

  test("no burst after a pause: the next chunk waits its own time", () => {
    const c = clock();
    const b = new TokenBucket(100_000, c.now);
    expect(b.take(100_000)).toBe(0);
    c.advance(60_000);
    expect(b.take(100_000)).toBe(0);
    expect(b.take(100_000)).toBe(1000);
  });

  test("rate 0 or Infinity: never waits", () => {
    expect(new TokenBucket(0).take(1e9)).toBe(0);
    expect(new TokenBucket(Number.POSITIVE_INFINITY).take(1e9)).toBe(0);
  });
});

describe("round-trip governor", () => {
  test("round trips that grow well past the best seen cut the rate by 30 %; steady ones let it climb back to the cap", () => {
    const g = new RttGovernor(4_000_000);
    for (let i = 0; i < 5; i++) g.observe(256 * 1024, 70); // ~3.7 MB/s, the path's best
    expect(g.rateBps).toBe(4_000_000);
    g.observe(256 * 1024, 400); // a queue builds on the agent's uplink
    const cut = g.rateBps;
    expect(cut).toBeLessThan(4_000_000 * 0.75);
    for (let i = 0; i < 40; i++) g.observe(256 * 1024, 70);
    expect(g.rateBps).toBe(4_000_000);
  });

  test("a slow round trip that still moved its chunk at more than twice the rate (a busy CPU, not the link) leaves the rate", () => {
    const g = new RttGovernor(1024 * 1024);
    for (let i = 0; i < 5; i++) g.observe(256 * 1024, 5); // loopback: ~50 MB/s
    g.observe(256 * 1024, 90); // held up 85 ms, yet ~2.8 MB/s: the agent's process was descheduled
    expect(g.rateBps).toBe(1024 * 1024);
    g.observe(256 * 1024, 400); // ~0.6 MB/s: the path no longer carries the rate
    expect(g.rateBps).toBeLessThan(1024 * 1024 * 0.75);
  });

  test("never below the floor, however slow", () => {
    const g = new RttGovernor(1_000_000);
    g.observe(256 * 1024, 50);
    for (let i = 0; i < 50; i++) g.observe(256 * 1024, 60_000);
    expect(g.rateBps).toBeGreaterThanOrEqual(32 * 1024);
  });

  test("chunks are a quarter second of the rate, so a telemetry frame never waits long behind one", () => {
    expect(new RttGovernor(1024 * 1024).chunkBytes(MAX_CHUNK_BYTES)).toBe(256 * 1024);
    expect(new RttGovernor(10_000).chunkBytes(MAX_CHUNK_BYTES)).toBe(MIN_CHUNK);
    expect(new RttGovernor(0).chunkBytes(MAX_CHUNK_BYTES)).toBe(MAX_CHUNK_BYTES);
  });

  test("a new cap (the site's default changed): lower at once, higher by the usual climb, none lifts the limit", () => {
    const g = new RttGovernor(4_000_000);
    g.setCap(1_000_000);
    expect(g.rateBps).toBe(1_000_000);
    g.setCap(2_000_000);
    expect(g.rateBps).toBe(1_000_000);
    for (let i = 0; i < 20; i++) g.observe(256 * 1024, 70);
    expect(g.rateBps).toBe(2_000_000);
    g.setCap(0);
    expect(g.rateBps).toBe(Number.POSITIVE_INFINITY);
    g.setCap(500_000);
    expect(g.rateBps).toBe(500_000);
  });
});
