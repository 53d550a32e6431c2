import { expect } from "bun:test";
import { type } from "arktype";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Reads a recorded sample from agent/test-data/<os>/<name> (tests only). */
export function testData(os: "linux" | "windows" | "darwin", name: string): string {
  return readFileSync(join(import.meta.dir, os, name), "utf8");
}

/** Fails with arktype's summary, which names the field, when a validation returned errors. */
export function expectValid(result: unknown): void {
  expect(result instanceof type.errors ? result.summary : "valid").toBe("valid");
}
