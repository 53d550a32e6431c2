import { describe, expect, test } from "bun:test";
import { compareVersions } from "./version.ts";

describe("versions compared as dpkg compares them", () => {
  // expectations from dpkg --compare-versions on this machine (see the test below that asks dpkg itself)
  const cases: [string, string, number][] = [
    ["1.0", "1.0", 0],
    ["1.0", "2.0", -1],
    ["6.0.1", "5.17.11", 1],
    ["10", "9", 1],
    ["1.0~rc1", "1.0", -1],
    ["1.0", "1.0+deb12u1", -1],
    ["1:1.0", "2.0", 1],
    ["3.0.11-1~deb12u1", "3.0.11-1~deb12u2", -1],
    ["2.36-9+deb12u7", "2.36-9+deb12u10", -1],
    ["1.2a", "1.2", 1],
    ["1.2", "1.2.0", -1],
    ["0001", "1", 0],
    ["1.0-1", "1.0", 1],
    ["1.0a", "1.0+", -1],
  ];
  for (const [a, b, want] of cases)
    test(`${a} vs ${b} → ${want}`, () => {
      expect(Math.sign(compareVersions(a, b))).toBe(want);
      expect(Math.sign(compareVersions(b, a))).toBe(want === 0 ? 0 : -want);
    });

  test("agrees with the real dpkg --compare-versions on every pair", () => {
    if (!Bun.which("dpkg")) return;
    for (const [a, b] of cases) {
      const lt = Bun.spawnSync(["dpkg", "--compare-versions", a, "lt", b]).exitCode === 0;
      const eq = Bun.spawnSync(["dpkg", "--compare-versions", a, "eq", b]).exitCode === 0;
      expect(Math.sign(compareVersions(a, b))).toBe(lt ? -1 : eq ? 0 : 1);
    }
  });
});
