import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sample } from "../../server/testing/fixtures.ts";
import { Spool } from "./spool.ts";

const dir = () => mkdtempSync(join(tmpdir(), "sentpulse-spool-"));
const batch = (seq: number) => ({ seq, samples: [sample()] });

describe("spool", () => {
  test("sequence numbers never repeat, also across restarts (reserved in blocks)", () => {
    const d = dir();
    const a = new Spool(d);
    expect([a.takeSeq(), a.takeSeq(), a.takeSeq()]).toEqual([1, 2, 3]);
    const b = new Spool(d);
    expect(b.takeSeq()).toBeGreaterThan(3);
  });

  test("batches come back oldest first, disk before memory, and acks remove them", () => {
    const d = dir();
    const s = new Spool(d);
    s.push(batch(1), true);
    s.push(batch(2), true);
    s.push(batch(3), false);
    expect(s.peek(10).map((b) => b.seq)).toEqual([1, 2, 3]);
    expect(s.peek(10, 1).map((b) => b.seq)).toEqual([2, 3]);
    s.ack(2);
    expect(s.peek(10).map((b) => b.seq)).toEqual([3]);
    expect(readdirSync(d).filter((f) => f.endsWith(".json") && f !== "state.json")).toEqual([]);
  });

  test("undelivered batches survive a restart (persistAll at shutdown)", () => {
    const d = dir();
    const s = new Spool(d);
    s.push(batch(s.takeSeq()), false);
    s.push(batch(s.takeSeq()), false);
    s.persistAll();
    const again = new Spool(d);
    expect(again.peek(10).map((b) => b.seq)).toEqual([1, 2]);
    expect(again.takeSeq()).toBeGreaterThan(2);
  });

  test("the disk spool is bounded: the oldest batches are dropped first", () => {
    const d = dir();
    const one = JSON.stringify(batch(1)).length;
    const s = new Spool(d, one * 3 + 10);
    for (let i = 1; i <= 6; i++) s.push(batch(i), true);
    expect(s.peek(10).map((b) => b.seq)).toEqual([4, 5, 6]);
    expect(s.dropped).toBe(3);
    expect(s.bytesOnDisk).toBeLessThanOrEqual(one * 3 + 10);
  });

  test("memory overflow keeps the order on disk", () => {
    const s = new Spool(dir(), 10_000_000, 2);
    for (let i = 1; i <= 5; i++) s.push(batch(i), false);
    expect(s.peek(10).map((b) => b.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  test("raiseSeqAbove keeps new sequence numbers above what the server stored", () => {
    const s = new Spool(dir());
    s.raiseSeqAbove(500);
    expect(s.takeSeq()).toBe(501);
  });
});
