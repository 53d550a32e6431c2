import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkPath, FilesError, resolveEntry, resolveFollowing, within } from "./paths.ts";

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "sp-paths-"));
  mkdirSync(join(root, "a"));
  writeFileSync(join(root, "a", "f.txt"), "x");
  symlinkSync(join(root, "a"), join(root, "dir-link"));
  symlinkSync("f.txt", join(root, "a", "inside-link"));
  symlinkSync("/etc/hostname", join(root, "a", "outside-link"));
  symlinkSync("../a/f.txt", join(root, "a", "relative-up"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const code = async (p: Promise<unknown>) => {
  try {
    await p;
    return "ok";
  } catch (e) {
    return e instanceof FilesError ? e.code : String(e);
  }
};

describe("the agent's own path checks", () => {
  test("relative paths, `..` segments and control characters are refused even when the server let them through", () => {
    for (const bad of ["a/b", "../x", "/tmp/../etc", "/tmp/a\u0000b", "/tmp/\u001b[31m", "", "C:\\x\\..\\y"])
      expect(() => checkPath(bad)).toThrow(FilesError);
    expect(checkPath("/tmp//a/./b")).toBe("/tmp/a/b");
  });

  test("an entry is resolved through its directories' symlinks but never through its own name", async () => {
    expect(await resolveEntry(join(root, "dir-link", "outside-link"))).toBe(join(root, "a", "outside-link"));
    expect(await resolveEntry("/")).toBe("/");
  });

  test("following: a link inside its directory is followed, one leading out is SYMLINK_ESCAPE", async () => {
    expect(await resolveFollowing(join(root, "a", "inside-link"))).toBe(join(root, "a", "f.txt"));
    expect(await code(resolveFollowing(join(root, "a", "outside-link")))).toBe("SYMLINK_ESCAPE");
    // ../a/f.txt climbs out of a/ and back in: it ends inside, so it is followed
    expect(await resolveFollowing(join(root, "a", "relative-up"))).toBe(join(root, "a", "f.txt"));
    expect(await code(resolveFollowing(join(root, "missing", "x")))).toBe("NOT_FOUND");
  });

  test("within compares path segments, not string prefixes", () => {
    expect(within("/srv/data", "/srv/data/x")).toBe(true);
    expect(within("/srv/data", "/srv/data")).toBe(true);
    expect(within("/srv/data", "/srv/database")).toBe(false);
    expect(within("/srv/data", "/srv")).toBe(false);
  });
});
