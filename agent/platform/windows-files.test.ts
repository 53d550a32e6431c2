import { describe, expect, test } from "bun:test";
import { type } from "arktype";
import { AclChange, FileAcl } from "../../server/protocol/files.ts";
import { expectValid, testData } from "../test-data/helpers.ts";
import { AclError } from "./files-acl.ts";
import { icaclsEditArgv, icaclsReadArgv, OWNER_SCRIPT, parseIcacls, rightsSummary } from "./windows-files.ts";

const sample = (name: string) => testData("windows", `files/${name}`);

describe("icacls output, recorded on real Windows hosts (agent/test-data/windows/files/README.md)", () => {
  test("a file of a blank installation (.\\system.ini): five inherited entries, the summary line ends the list", () => {
    const aces = parseIcacls(sample("icacls-system-ini.txt"), ".\\system.ini");
    expect(aces.map((a) => [a.identity, a.type, a.rights, a.inherited, a.inheritance])).toEqual([
      ["NT AUTHORITY\\SYSTEM", "allow", ["F"], true, []],
      ["BUILTIN\\Administrators", "allow", ["F"], true, []],
      ["BUILTIN\\Users", "allow", ["RX"], true, []],
      ["APPLICATION PACKAGE AUTHORITY\\ALL APPLICATION PACKAGES", "allow", ["RX"], true, []],
      ["APPLICATION PACKAGE AUTHORITY\\ALL RESTRICTED APP PACKAGES", "allow", ["RX"], true, []],
    ]);
    expect(aces[0]?.summary).toBe("Full control");
    expect(aces[2]?.summary).toBe("Read & execute");
    expectValid(FileAcl({ kind: "windows", owner: null, windows: aces, posix: [] }));
  });

  test("the same output with Windows line ends (icacls writes \\r\\n)", () => {
    const crlf = sample("icacls-system-ini.txt").replace(/\n/g, "\r\n");
    expect(parseIcacls(crlf, ".\\system.ini")).toEqual(parseIcacls(sample("icacls-system-ini.txt"), ".\\system.ini"));
  });

  test("a new folder: object and container inheritance, a domain account; its file inherits plain entries", () => {
    const dir = parseIcacls(sample("icacls-directory.txt"), "crazy");
    expect(dir).toHaveLength(3);
    expect(dir[2]).toEqual({
      identity: "DI\\thogarth",
      type: "allow",
      rights: ["F"],
      summary: "Full control",
      inherited: true,
      inheritance: ["OI", "CI"],
    });
    const file = parseIcacls(sample("icacls-file-in-directory.txt"), "keys.txt");
    expect(file.map((a) => a.identity)).toEqual(["NT AUTHORITY\\SYSTEM", "BUILTIN\\Administrators", "DI\\thogarth"]);
    expect(file.every((a) => a.inherited && a.inheritance.length === 0)).toBe(true);
  });

  test("the listing must be of the path asked for; a line that is no entry is refused, not guessed", () => {
    expect(() => parseIcacls(sample("icacls-directory.txt"), "C:\\other")).toThrow(AclError);
    expect(() => parseIcacls("C:\\x NT AUTHORITY\\SYSTEM:(I)(F)\n  something else\n", "C:\\x")).toThrow("not an entry");
  });
});

describe("documented icacls shapes (Microsoft's icacls reference; no recording with these was found)", () => {
  test("a deny entry, inherit-only flags and a comma list of specific rights", () => {
    const out =
      "C:\\Data Everyone:(DENY)(W)\n        BUILTIN\\Users:(OI)(CI)(IO)(GR,GE)\n        *S-1-5-21-1-2-3-1001:(NP)(RD,WD)\n\nSuccessfully processed 1 files; Failed processing 0 files\n";
    const aces = parseIcacls(out, "C:\\Data");
    expect(aces[0]).toMatchObject({ identity: "Everyone", type: "deny", rights: ["W"], inherited: false });
    expect(aces[1]).toMatchObject({ inheritance: ["OI", "CI", "IO"], rights: ["GR", "GE"], summary: "Generic read, Generic execute" });
    expect(aces[2]).toMatchObject({ identity: "*S-1-5-21-1-2-3-1001", inheritance: ["NP"], rights: ["RD", "WD"] });
    expect(rightsSummary(["M"])).toBe("Modify");
  });
});

describe("icacls command lines: argument vectors, strict patterns", () => {
  test("read: icacls and the path, nothing else", () => {
    expect(icaclsReadArgv("C:\\Users\\Public\\report.txt")).toEqual(["icacls", "C:\\Users\\Public\\report.txt"]);
    expect(() => icaclsReadArgv("/etc/passwd")).toThrow(AclError);
  });

  test("grant, deny and remove", () => {
    expect(
      icaclsEditArgv("C:\\Shares\\Finance", { action: "grant", identity: "CONTOSO\\Finance Team", rights: "M", inheritance: ["OI", "CI"] }),
    ).toEqual(["icacls", "C:\\Shares\\Finance", "/grant", "CONTOSO\\Finance Team:(OI)(CI)(M)"]);
    expect(icaclsEditArgv("C:\\Shares\\Finance", { action: "deny", identity: "Guest", rights: "RD,WD" })).toEqual([
      "icacls",
      "C:\\Shares\\Finance",
      "/deny",
      "Guest:(RD,WD)",
    ]);
    expect(icaclsEditArgv("C:\\Shares\\Finance", { action: "remove", identity: "*S-1-5-32-545" })).toEqual([
      "icacls",
      "C:\\Shares\\Finance",
      "/remove",
      "*S-1-5-32-545",
    ]);
    // a flag named twice is named once
    expect(icaclsEditArgv("C:\\x", { action: "grant", identity: "alice", rights: "R", inheritance: ["OI", "OI"] }).at(-1)).toBe(
      "alice:(OI)(R)",
    );
  });

  test("identities and rights that could smuggle rights, switches or a second argument are refused (here and by the wire schema)", () => {
    const bad: AclChange[] = [
      { action: "grant", identity: "alice:(F)", rights: "R" },
      { action: "grant", identity: "/grant", rights: "R" },
      { action: "grant", identity: "alice) (F", rights: "R" },
      { action: "grant", identity: "a,b", rights: "R" },
      { action: "grant", identity: "alice", rights: "F) /T (F" },
      { action: "grant", identity: "alice", rights: "RX,F" },
      { action: "grant", identity: "alice", rights: "" },
      { action: "remove", identity: "alice\n/T" },
    ];
    for (const change of bad) {
      expect(() => icaclsEditArgv("C:\\x", change)).toThrow(AclError);
      expect(AclChange(change) instanceof type.errors).toBe(true);
    }
    expect(() => icaclsEditArgv("\\\\server\\share", { action: "remove", identity: "alice" })).toThrow("drive paths");
  });

  test("the owner is read with the path in the environment, never inside the script", () => {
    expect(OWNER_SCRIPT).toBe("(Get-Acl -LiteralPath $env:SP_PATH).Owner");
  });
});
