import { describe, expect, test } from "bun:test";
import type { FilesRequest, WindowsAce } from "../../server/protocol/files.ts";
import { testData } from "../test-data/helpers.ts";
import { checkAccess, consoleUserOf, effectiveFor, needsOf, parentOf, parseQuser } from "./windows-files-access.ts";
import { parseIcacls } from "./windows-files.ts";

const sample = (name: string) => testData("windows", `files/${name}`);
const systemIni = parseIcacls(sample("icacls-system-ini.txt"), ".\\system.ini");

describe("query user, recorded (agent/test-data/windows/files/README.md)", () => {
  test("a Remote Desktop server: sessions without a name, an RDP session, the console user marked as quser's own", () => {
    const s = parseQuser(sample("quser-four-sessions.txt"));
    expect(s.map((x) => [x.username, x.sessionName, x.id, x.state, x.current])).toEqual([
      ["admin.xxxxxxxx", null, 2, "Disc", false],
      ["admin.xxxxx", "rdp-tcp#54", 3, "Active", false],
      ["xxxxxxxx", null, 4, "Disc", false],
      ["vertigoray", "console", 5, "Active", true],
    ]);
    // the console user, not the RDP one
    expect(consoleUserOf(s)).toBe("vertigoray");
  });

  test("a workstation with its console user only; with Windows line ends too", () => {
    expect(consoleUserOf(parseQuser(sample("quser-console-only.txt")))).toBe("vertigoray");
    expect(consoleUserOf(parseQuser(sample("quser-console-only.txt").replace(/\n/g, "\r\n")))).toBe("vertigoray");
    // an RDP-only server has nobody at the console
    const rdpOnly = sample("quser-four-sessions.txt").split("\n").slice(0, 4).join("\n");
    expect(consoleUserOf(parseQuser(rdpOnly))).toBeUndefined();
  });
});

describe("the console user's rights from recorded icacls output", () => {
  const folder = parseIcacls(sample("icacls-directory.txt"), "crazy");

  test("system.ini of a blank installation: any console user may read it (BUILTIN\\Users: RX), not change or delete it (Administrators is deny-only under UAC)", () => {
    expect([...effectiveFor(systemIni, "vertigoray")].sort()).toEqual(["read"]);
  });

  test("a folder whose entries name only SYSTEM, Administrators and its owner: the owner may do all, another user nothing", () => {
    expect([...effectiveFor(folder, "thogarth")].sort()).toEqual(["change permissions", "delete", "read", "write"]);
    expect(effectiveFor(folder, "vertigoray").size).toBe(0);
  });

  test("deny entries count for any group not known to exclude the user (fail closed); SYSTEM's and inherit-only entries do not", () => {
    const aces: WindowsAce[] = [
      { identity: "CONTOSO\\Contractors", type: "deny", rights: ["W"], summary: "", inherited: false, inheritance: [] },
      { identity: "NT AUTHORITY\\SYSTEM", type: "deny", rights: ["D"], summary: "", inherited: false, inheritance: [] },
      { identity: "BUILTIN\\Users", type: "allow", rights: ["M"], summary: "", inherited: true, inheritance: [] },
      { identity: "Everyone", type: "allow", rights: ["F"], summary: "", inherited: false, inheritance: ["OI", "CI", "IO"] },
    ];
    expect([...effectiveFor(aces, "alice")].sort()).toEqual(["delete", "read"]);
  });
});

describe("what each request needs, and the decision", () => {
  test("paths checked: the entry, or the folder a new entry is made in", () => {
    expect(parentOf("C:\\Users\\alice\\a.txt")).toBe("C:\\Users\\alice");
    expect(parentOf("C:\\a.txt")).toBe("C:\\");
    const r = (x: Record<string, unknown>) => ({ elevated: false, ...x }) as FilesRequest;
    expect(needsOf(r({ op: "list", path: "C:\\Data", hidden: false }))).toEqual([{ capability: "read", path: "C:\\Data" }]);
    expect(needsOf(r({ op: "mkdir", path: "C:\\Data\\New" }))).toEqual([{ capability: "write", path: "C:\\Data" }]);
    expect(needsOf(r({ op: "move", path: "C:\\Data\\a", to: "C:\\Other\\a", overwrite: false }))).toEqual([
      { capability: "delete", path: "C:\\Data\\a" },
      { capability: "write", path: "C:\\Other" },
    ]);
    expect(needsOf(r({ op: "acl", path: "C:\\Data", change: { action: "remove", identity: "bob" } }))).toEqual([
      { capability: "change permissions", path: "C:\\Data" },
    ]);
  });

  test("refused before anything runs, allowed with the user named; nobody at the console: elevate", async () => {
    const acls: Record<string, WindowsAce[]> = { "C:\\Windows\\system.ini": systemIni, "C:\\Windows": systemIni };
    const o = (user: string | undefined) => ({ whoIsAtConsole: async () => user, readAcl: async (p: string) => acls[p] });
    const read = { op: "stat", path: "C:\\Windows\\system.ini", elevated: false } as FilesRequest;
    const del = { op: "delete", path: "C:\\Windows\\system.ini", recursive: false, elevated: false } as FilesRequest;
    expect(await checkAccess(read, o("vertigoray"))).toEqual({ user: "vertigoray" });
    expect(await checkAccess(del, o("vertigoray"))).toMatchObject({
      code: "PERMISSION_DENIED",
      message: expect.stringContaining("may not delete"),
    });
    expect(await checkAccess(read, o(undefined))).toMatchObject({ code: "ELEVATION_REQUIRED" });
    // a path that does not exist yet is decided by its folder
    const mk = { op: "mkdir", path: "C:\\Windows\\New", elevated: false } as FilesRequest;
    expect(await checkAccess(mk, o("vertigoray"))).toMatchObject({
      code: "PERMISSION_DENIED",
      message: expect.stringContaining("may not write C:\\Windows"),
    });
  });

  test("a grant is remembered for a while (a download's chunks run icacls once), a refusal never", async () => {
    let reads = 0;
    const granted = new Map<string, number>();
    const o = {
      whoIsAtConsole: async () => "vertigoray",
      readAcl: async () => {
        reads++;
        return systemIni;
      },
      granted,
    };
    const chunk = (offset: number) =>
      ({
        op: "read",
        transferId: "0190e0c4-0000-7000-8000-000000000000",
        path: "C:\\Windows\\system.ini",
        offset,
        length: 1,
        size: 9,
        mtime: 0,
        elevated: false,
      }) as FilesRequest;
    for (let i = 0; i < 5; i++) expect(await checkAccess(chunk(i), o)).toEqual({ user: "vertigoray" });
    expect(reads).toBe(1);
    const del = { op: "delete", path: "C:\\Windows\\system.ini", recursive: false, elevated: false } as FilesRequest;
    for (let i = 0; i < 2; i++) expect(await checkAccess(del, o)).toMatchObject({ code: "PERMISSION_DENIED" });
    expect(reads).toBe(3);
  });
});
