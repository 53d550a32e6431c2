import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");
const read = (f: string) => readFileSync(join(ROOT, f), "utf8");

describe("one pinned Bun", () => {
  test(".bun-version, package.json, the Dockerfile and the running Bun agree", () => {
    const pinned = read(".bun-version").trim();
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    const pkg = JSON.parse(read("package.json")) as { packageManager: string; engines: { bun: string } };
    expect(pkg.packageManager).toBe(`bun@${pinned}`);
    expect(pkg.engines.bun).toBe(pinned);
    const images = [...read("Dockerfile").matchAll(/^FROM oven\/bun:(\S+)/gm)].map((m) => m[1]);
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) expect(image?.replace(/-slim$/, "")).toBe(pinned);
    // scripts/test runs under scripts/lib/bun.sh, which puts exactly this version on PATH
    expect(Bun.version).toBe(pinned);
  });
});
