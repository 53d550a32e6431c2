import { describe, expect, test } from "bun:test";
import { parseMeminfo } from "./memory.ts";
import { testData } from "../test-data/helpers.ts";

describe("parseMeminfo", () => {
  test("recorded /proc/meminfo: used is MemTotal − MemAvailable, in bytes", () => {
    expect(parseMeminfo(testData("linux", "meminfo"))).toEqual({
      totalBytes: 24683656 * 1024,
      usedBytes: (24683656 - 24436124) * 1024,
      swapTotalBytes: 0,
      swapUsedBytes: 0,
    });
  });

  test("swap in use, and the pre-3.14 fallback without MemAvailable", () => {
    const text = [
      "MemTotal:        8000000 kB",
      "MemFree:         1000000 kB",
      "Buffers:          200000 kB",
      "Cached:          2800000 kB",
      "SwapTotal:       2097148 kB",
      "SwapFree:        1048574 kB",
      "",
    ].join("\n");
    expect(parseMeminfo(text)).toEqual({
      totalBytes: 8000000 * 1024,
      usedBytes: 4000000 * 1024,
      swapTotalBytes: 2097148 * 1024,
      swapUsedBytes: 1048574 * 1024,
    });
  });
});
