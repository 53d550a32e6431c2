import { describe, expect, test } from "bun:test";
import { counterRate, createRateTracker, totalRates } from "./rate.ts";

describe("counterRate", () => {
  test("bytes per second between two counter values", () => {
    expect(counterRate(1000, 3000, 2)).toBe(1000);
  });

  test("0 without a previous value, without elapsed time, or after a counter reset", () => {
    expect(counterRate(undefined, 3000, 2)).toBe(0);
    expect(counterRate(1000, 3000, 0)).toBe(0);
    expect(counterRate(5000, 100, 2)).toBe(0);
  });
});

describe("createRateTracker", () => {
  test("first call gives 0, then rates from the elapsed milliseconds", () => {
    const track = createRateTracker();
    expect(track([{ name: "eth0", inBytes: 100, outBytes: 50 }], 1000)).toEqual([{ name: "eth0", inBps: 0, outBps: 0 }]);
    expect(track([{ name: "eth0", inBytes: 2100, outBytes: 550 }], 3000)).toEqual([{ name: "eth0", inBps: 1000, outBps: 250 }]);
  });

  test("a device that appears later starts at 0, one that vanished is forgotten", () => {
    const track = createRateTracker();
    track([{ name: "a", inBytes: 0, outBytes: 0 }], 0);
    expect(track([{ name: "b", inBytes: 500, outBytes: 500 }], 1000)).toEqual([{ name: "b", inBps: 0, outBps: 0 }]);
    expect(track([{ name: "a", inBytes: 900, outBytes: 900 }], 2000)).toEqual([{ name: "a", inBps: 0, outBps: 0 }]);
  });

  test("totalRates sums every device", () => {
    expect(
      totalRates([
        { name: "a", inBps: 1, outBps: 2 },
        { name: "b", inBps: 10, outBps: 20 },
      ]),
    ).toEqual({ inBps: 11, outBps: 22 });
  });
});
