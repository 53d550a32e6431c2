import { describe, expect, test } from "bun:test";
import { currentPlatform, platformFor } from "./index.ts";

describe("platform selection", () => {
  test("platformFor returns the implementation for each OS", () => {
    for (const os of ["linux", "windows", "darwin"] as const) expect(platformFor(os).os).toBe(os);
  });

  test("currentPlatform matches process.platform", () => {
    const expected = { linux: "linux", win32: "windows", darwin: "darwin" }[process.platform as string];
    expect(currentPlatform().os).toBe(expected as "linux");
  });
});
