import { describe, expect, test } from "bun:test";
import { countPids, readProcessCount } from "./processes.ts";

describe("process count", () => {
  test("counts only numeric /proc entries", () => {
    expect(countPids(["1", "42", "self", "thread-self", "acpi", "2093", "sys"])).toBe(3);
  });

  test("this machine's /proc includes this process", () => {
    const n = readProcessCount();
    expect(n).toBeGreaterThanOrEqual(1);
    expect(Number.isInteger(n)).toBe(true);
  });
});
