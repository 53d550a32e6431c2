import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FileAcl } from "../../server/protocol/files.ts";
import { expectValid } from "../test-data/helpers.ts";
import { platformFileAcl } from "./files-acl.ts";
import { getfaclArgv, parseGetfacl } from "./linux-files.ts";

/** POSIX ACLs read with Debian's real getfacl (package `acl`) from entries set here with setfacl. */
let dir: string;
beforeAll(() => {
  dir = mkdtempSync("/tmp/sp-acl-");
  writeFileSync(join(dir, "shared.txt"), "x");
  const run = (argv: string[]) => {
    const r = Bun.spawnSync(argv);
    if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr.toString()}`);
  };
  run(["setfacl", "-m", "u:nobody:rwx,g:daemon:r--,m::r-x", join(dir, "shared.txt")]);
  run(["setfacl", "-d", "-m", "u:nobody:r-x", dir]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("POSIX ACLs with the real getfacl", () => {
  test("named user and group, the mask and what it leaves (effective), owner/group/other", async () => {
    const acl = await (await platformFileAcl("linux")).read(join(dir, "shared.txt"));
    expect(acl?.kind).toBe("posix");
    expect(acl?.posix).toEqual([
      { tag: "user", qualifier: null, perms: "rw-", effective: null, default: false },
      { tag: "user", qualifier: "nobody", perms: "rwx", effective: "r-x", default: false },
      { tag: "group", qualifier: null, perms: "r--", effective: null, default: false },
      { tag: "group", qualifier: "daemon", perms: "r--", effective: null, default: false },
      { tag: "mask", qualifier: null, perms: "r-x", effective: null, default: false },
      { tag: "other", qualifier: null, perms: "r--", effective: null, default: false },
    ]);
    expectValid(FileAcl(acl));
  });

  test("a directory's default entries", async () => {
    const acl = await (await platformFileAcl("linux")).read(dir);
    expect(acl?.posix.filter((e) => e.default)).toContainEqual({
      tag: "user",
      qualifier: "nobody",
      perms: "r-x",
      effective: null,
      default: true,
    });
  });

  test("argv: -- before the path; comment and flag lines skipped", () => {
    expect(getfaclArgv("/srv/-rf")).toEqual(["getfacl", "--absolute-names", "--", "/srv/-rf"]);
    expect(parseGetfacl("# file: /tmp\n# owner: root\n# flags: --t\nuser::rwx\ngroup::rwx\nother::rwx\n")).toHaveLength(3);
  });

  test("ACL changes are refused outside Windows", async () => {
    expect((await platformFileAcl("linux")).edit("/tmp", { action: "remove", identity: "alice" })).rejects.toMatchObject({
      code: "ACL_UNSUPPORTED",
    });
    expect(await (await platformFileAcl("darwin")).read("/tmp")).toBeNull();
  });
});
