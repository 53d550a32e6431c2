import { describe, expect, test } from "bun:test";
import { parseLoadavg } from "./load.ts";
import { testData } from "../test-data/helpers.ts";
import { parseUptime } from "./uptime.ts";

describe("parseLoadavg", () => {
  test("recorded /proc/loadavg gives the three averages", () => {
    expect(parseLoadavg(testData("linux", "loadavg"))).toEqual([0.06, 0.5, 0.42]);
  });

  test("garbage gives zeros rather than NaN", () => {
    expect(parseLoadavg("")).toEqual([0, 0, 0]);
  });
});

describe("parseUptime", () => {
  test("recorded /proc/uptime gives seconds since boot", () => {
    expect(parseUptime(testData("linux", "uptime"))).toBe(3742.39);
  });
});
