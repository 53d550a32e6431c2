import { describe, expect, test } from "bun:test";
import type { CpuInfo } from "node:os";
import { busyPercent, cpuTimesFromOs, cpuUsage, createCpuTracker, parseProcStat } from "./cpu.ts";
import { testData } from "../test-data/helpers.ts";

const stat1 = testData("linux", "stat.1");
const stat2 = testData("linux", "stat.2");

describe("parseProcStat", () => {
  test("reads the aggregate line and one line per core from recorded /proc/stat", () => {
    const times = parseProcStat(stat1);
    expect(times).toHaveLength(3);
    // cpu  61763 0 1102 684213 127 0 78 199 0 0: idle + iowait are not busy, guest columns not re-added
    expect(times[0]).toEqual({ busy: 63142, total: 747482 });
    expect(times[1]).toEqual({ busy: 39517, total: 373790 });
  });

  test("stops at the first non-cpu line", () => {
    expect(parseProcStat("cpu  1 2 3 4 5 6 7 8 9 10\nintr 99 1 2\nctxt 5\n")).toEqual([{ busy: 27, total: 36 }]);
  });

  test("returns nothing for text without cpu lines", () => {
    expect(parseProcStat("intr 1\n")).toEqual([]);
  });
});

describe("cpu usage between recorded snapshots", () => {
  test("aggregate and per-core busy percent", () => {
    const usage = cpuUsage(parseProcStat(stat1), parseProcStat(stat2));
    expect(usage.percent).toBe(36.1); // 74 busy of 205 ticks
    expect(usage.perCore).toEqual([59.8, 14.29]); // 61/102 and 15/105
  });

  test("no previous reading gives the average since boot", () => {
    expect(cpuUsage(undefined, parseProcStat(stat1)).percent).toBe(8.45); // 63142 / 747482
  });

  test("a changed core count ignores the previous reading", () => {
    const cur = parseProcStat(stat2);
    expect(cpuUsage(cur.slice(0, 2), cur)).toEqual(cpuUsage(undefined, cur));
  });

  test("busyPercent stays within 0..100 when counters go backwards or stand still", () => {
    expect(busyPercent({ busy: 10, total: 100 }, { busy: 5, total: 110 })).toBe(0);
    expect(busyPercent({ busy: 10, total: 100 }, { busy: 10, total: 100 })).toBe(0);
    expect(busyPercent({ busy: 0, total: 100 }, { busy: 50, total: 120 })).toBe(100);
  });

  test("the tracker remembers the previous reading", () => {
    const track = createCpuTracker();
    track(parseProcStat(stat1));
    expect(track(parseProcStat(stat2)).percent).toBe(36.1);
  });
});

describe("cpuTimesFromOs", () => {
  test("sums os.cpus() times into an aggregate first", () => {
    const cpu = (user: number, idle: number): CpuInfo => ({
      model: "m",
      speed: 1,
      times: { user, nice: 0, sys: 10, idle, irq: 5 },
    });
    expect(cpuTimesFromOs([cpu(100, 900), cpu(300, 700)])).toEqual([
      { busy: 430, total: 2030 },
      { busy: 115, total: 1015 },
      { busy: 315, total: 1015 },
    ]);
  });
});
