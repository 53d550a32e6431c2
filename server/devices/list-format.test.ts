import { describe, expect, test } from "bun:test";
import { isoFromUtcText } from "./store.ts";

describe("the device list's time text", () => {
  test("PostgreSQL's UTC timestamp text becomes Date.toISOString()'s form, milliseconds truncated", () => {
    for (const [pg, iso] of [
      ["2026-12-01 23:45:23.611234", "2026-12-01T23:45:23.611Z"],
      ["2026-12-01 23:45:23.6119", "2026-12-01T23:45:23.611Z"],
      ["2026-12-01 23:45:23.5", "2026-12-01T23:45:23.500Z"],
      ["2026-12-01 23:45:23.05", "2026-12-01T23:45:23.050Z"],
      ["2026-01-09 00:00:00", "2026-01-09T00:00:00.000Z"],
    ] as const) {
      expect(isoFromUtcText(pg)).toBe(iso);
      expect(new Date(iso).toISOString()).toBe(iso);
    }
    expect(isoFromUtcText(null)).toBeNull();
  });
});
