import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installPs1 } from "./install-scripts.ts";
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
const decode = (input: string) => {
  const out = `${input}.out`;
  const p = Bun.spawnSync(["mono", exe, input, out], { stdout: "pipe", stderr: "pipe" });
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
    try { System.Console.WriteLine(SentpulseLzma.Decode(a[0], a[1])); return 0; }
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

  test("install.ps1 carries this decoder verbatim, prefers lzma, falls back to gzip, and checks the SHA-256 before installing", () => {
    const ps = installPs1("https://rmm.example.com");
    expect(ps).toContain(`$LzmaDecoder = @'\n${LZMA_DECODER_CS}'@\n`);
    const lzma = ps.indexOf("windows-x64?compression=lzma");
    const gzip = ps.indexOf("windows-x64?compression=gzip");
    const check = ps.indexOf("Get-FileHash -Algorithm SHA256 $Tmp");
    const install = ps.indexOf("Move-Item -Force $Tmp $Bin");
    expect(lzma).toBeGreaterThan(0);
    expect(gzip).toBeGreaterThan(lzma);
    expect(check).toBeGreaterThan(gzip);
    expect(install).toBeGreaterThan(check);
    expect(ps).toContain("[SentpulseLzma]::Decode(");
    expect(ps).toContain("$Server/download/agent/SHA256SUMS");
  });
});
