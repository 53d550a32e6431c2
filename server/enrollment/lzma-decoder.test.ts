import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installPs1 } from "./install-scripts.ts";
import { bcj2Streams, packBcj2, readSevenZip } from "../../scripts/lib/bcj2.ts";
import { LZMA_DECODER_CS } from "./lzma-decoder.ts";

/**
 * The Windows installer's LZMA decoder, compiled from the very text install.ps1 carries by Debian's
 * mono C# compiler held to C# 5 (what Windows PowerShell 5.1's Add-Type compiles), run on streams
 * Debian's `xz --format=lzma` made from real files. PowerShell itself cannot run here (Debian has no
 * `pwsh`); the script around the decoder is checked as text.
 */
let dir: string;
let exe: string;
const sha = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
const sh = (cmd: string) => {
  const p = Bun.spawnSync(["sh", "-c", cmd], { stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${cmd}: ${p.stderr.toString()}`);
};
/** Decodes with the compiled decoder: exit code, what it printed, the output file's bytes. */
const decode = (input: string, mode: "lzma" | "bcj2" = "lzma") => {
  const out = `${input}.out`;
  const p = Bun.spawnSync(["mono", exe, input, out, mode], { stdout: "pipe", stderr: "pipe" });
  let bytes: Uint8Array | undefined;
  try {
    bytes = new Uint8Array(readFileSync(out));
  } catch {}
  return { code: p.exitCode, stdout: p.stdout.toString().trim(), stderr: p.stderr.toString(), bytes };
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sentpulse-lzma-"));
  writeFileSync(join(dir, "decoder.cs"), LZMA_DECODER_CS);
  writeFileSync(
    join(dir, "main.cs"),
    `public static class Program {
  public static int Main(string[] a) {
    try { System.Console.WriteLine(a.Length > 2 && a[2] == "bcj2" ? SentpulseLzma.DecodeBcj2(a[0], a[1]) : SentpulseLzma.Decode(a[0], a[1])); return 0; }
    catch (System.IO.InvalidDataException e) { System.Console.Error.WriteLine(e.Message); return 3; }
  }
}
`,
  );
  exe = join(dir, "unlzma.exe");
  sh(`mcs -langversion:5 -optimize+ -out:'${exe}' '${join(dir, "decoder.cs")}' '${join(dir, "main.cs")}'`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the installer's LZMA decoder", () => {
  const cases: [string, string, string][] = [
    ["a real executable, xz -9 (what build-agents makes)", "/bin/bash", "-9"],
    ["the same at the fastest preset", "/bin/bash", "-0"],
    ["text with lc=0 lp=2 pb=0", "/usr/share/common-licenses/GPL-3", "--lzma1=preset=6,lc=0,lp=2,pb=0"],
    ["a dictionary far smaller than the data (the window wraps)", "/bin/bash", "--lzma1=preset=6,dict=4KiB"],
    ["literal-heavy settings lc=4", "/usr/share/common-licenses/GPL-3", "--lzma1=preset=9,lc=4,lp=0,pb=4"],
  ];
  for (const [name, file, opts] of cases)
    test(`${name}: the original bytes back`, () => {
      const packed = join(dir, `${sha(new TextEncoder().encode(name)).slice(0, 8)}.lzma`);
      sh(`xz --format=lzma ${opts} -c '${file}' > '${packed}'`);
      const original = new Uint8Array(readFileSync(file));
      const r = decode(packed);
      expect([r.code, r.stderr]).toEqual([0, ""]);
      expect(r.stdout).toBe(String(original.length));
      expect(r.bytes && sha(r.bytes)).toBe(sha(original));
    });

  test("an empty file", () => {
    const packed = join(dir, "empty.lzma");
    sh(`: | xz --format=lzma -c > '${packed}'`);
    expect(decode(packed)).toMatchObject({ code: 0, stdout: "0" });
  });

  test("a cut stream, a bad properties byte and an oversized dictionary are refused", () => {
    const packed = join(dir, "whole.lzma");
    sh(`xz --format=lzma -6 -c /bin/bash > '${packed}'`);
    const whole = readFileSync(packed);
    const cut = join(dir, "cut.lzma");
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    expect(decode(cut)).toMatchObject({ code: 3, stderr: "LZMA: stream cut short\n" });
    const badProps = join(dir, "props.lzma");
    writeFileSync(badProps, Buffer.concat([Buffer.from([225]), whole.subarray(1)]));
    expect(decode(badProps)).toMatchObject({ code: 3, stderr: "LZMA: bad properties\n" });
    const hugeDict = join(dir, "dict.lzma");
    const header = Buffer.from(whole);
    header.writeUInt32LE(0xffff_0000, 1);
    writeFileSync(hugeDict, header);
    expect(decode(hugeDict)).toMatchObject({ code: 3, stderr: "LZMA: dictionary above 1 GiB\n" });
  });

  describe("BCJ2 packages (scripts/lib/bcj2.ts over Debian's 7zz)", () => {
    const packed = new Map<string, string>();
    const pack = (file: string) => {
      const known = packed.get(file);
      if (known) return known;
      const out = join(dir, `${sha(new TextEncoder().encode(file)).slice(0, 8)}.bcj2`);
      packBcj2(file, out);
      packed.set(file, out);
      return out;
    };
    // real x86-64 code: CALL, JMP and Jcc targets to convert; the compiler's own PE executable; text without any
    for (const [name, file] of [
      ["bash (ELF, x86-64)", "/bin/bash"],
      ["libc (ELF, x86-64, 2 MB)", "/usr/lib/x86_64-linux-gnu/libc.so.6"],
      ["a .NET PE executable (the decoder's own test program)", "EXE"],
      ["text", "/usr/share/common-licenses/GPL-3"],
    ] as const)
      test(`${name}: the original bytes back`, () => {
        const path = file === "EXE" ? exe : file;
        const r = decode(pack(path), "bcj2");
        const original = new Uint8Array(readFileSync(path));
        expect([r.code, r.stderr]).toEqual([0, ""]);
        expect(r.stdout).toBe(String(original.length));
        expect(r.bytes && sha(r.bytes)).toBe(sha(original));
      });

    test("the package is smaller than xz's own x86 filter makes it", () => {
      const bash = readFileSync(pack("/bin/bash")).length;
      const xz = Bun.spawnSync(["xz", "--format=raw", "--x86", "--lzma1=preset=9e", "-c", "/bin/bash"]).stdout.length;
      expect(bash).toBeLessThan(xz);
    });

    test("damaged packages are refused, nothing half-written is called done", () => {
      const whole = readFileSync(pack("/bin/bash"));
      const cases: [string, Buffer, string][] = [
        ["cut", whole.subarray(0, Math.floor(whole.length * 0.7)), "LZMA: stream cut short"],
        ["not ours", Buffer.concat([Buffer.from("7z"), whole.subarray(2)]), "SPXB: not a BCJ2 agent package"],
        ["header only", whole.subarray(0, 40), "SPXB header: cut short"],
      ];
      const bigger = Buffer.from(whole);
      bigger.writeBigUInt64LE(2n ** 40n, 5);
      cases.push(["a size over 1 GiB", bigger, "SPXB: more than 1 GiB of output"]);
      const rc = Buffer.from(whole);
      // the range coder's stream follows the header (84 bytes), the call and the jump streams
      const callPacked = Number(rc.readBigUInt64LE(13 + 13));
      const jumpPacked = Number(rc.readBigUInt64LE(13 + 21 + 13));
      rc[84 + callPacked + jumpPacked] = 1;
      cases.push(["a range coder that does not start with 0", rc, "BCJ2: bad range coder start"]);
      for (const [what, bytes, message] of cases) {
        const file = join(dir, `bad-${what.replaceAll(" ", "-")}.bcj2`);
        writeFileSync(file, bytes);
        expect([what, decode(file, "bcj2")]).toMatchObject([what, { code: 3, stderr: `${message}\n` }]);
      }
    });

    test("the 7z reader refuses archives it cannot take apart: a compressed header, no BCJ2", () => {
      const src = join(dir, "small.txt");
      writeFileSync(src, "hello ".repeat(1000));
      const plain = join(dir, "plain.7z");
      expect(Bun.spawnSync(["7zz", "a", "-t7z", "-mhc=off", "-m0=LZMA", plain, src]).exitCode).toBe(0);
      const archive = new Uint8Array(readFileSync(plain));
      expect(() => bcj2Streams(readSevenZip(archive))).toThrow("no BCJ2 coder");
      // 7-Zip compresses bigger headers (kEncodedHeader, 0x17, first byte of the header)
      const encoded = Uint8Array.from(archive);
      encoded[32 + Number(new DataView(encoded.buffer).getBigUint64(12, true))] = 0x17;
      expect(() => readSevenZip(encoded)).toThrow("-mhc=off");
      expect(() => readSevenZip(archive.subarray(0, 40))).toThrow();
    });
  });

  test("install.ps1 carries this decoder verbatim, prefers the BCJ2 package, falls back to gzip, and checks the SHA-256 before installing", () => {
    const ps = installPs1("https://rmm.example.com");
    expect(ps).toContain(`$LzmaDecoder = @'\n${LZMA_DECODER_CS}'@\n`);
    const bcj2 = ps.indexOf("windows-x64?compression=bcj2");
    const gzip = ps.indexOf("windows-x64?compression=gzip");
    const check = ps.indexOf("Get-FileHash -Algorithm SHA256 $Tmp");
    const install = ps.indexOf("Move-Item -Force $Tmp $Bin");
    expect(bcj2).toBeGreaterThan(0);
    expect(gzip).toBeGreaterThan(bcj2);
    expect(check).toBeGreaterThan(gzip);
    expect(install).toBeGreaterThan(check);
    expect(ps).toContain("[SentpulseLzma]::DecodeBcj2(");
    expect(ps).toContain("$Server/download/agent/SHA256SUMS");
  });
});
