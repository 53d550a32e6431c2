/**
 * Packs a Windows executable for install.ps1 as "SPXB": 7-Zip's BCJ2 filter (CALL and JMP targets
 * made absolute and moved to streams of their own, so the code left behind and the targets each
 * compress far better; 9 % smaller than xz with its x86 filter on the agent) with LZMA on each stream.
 * Debian's `7zz` does the work in a 7z archive with an uncompressed header; this reads the streams
 * out of it and writes them in a layout the installer's C# decoder (server/enrollment/lzma-decoder.ts,
 * `DecodeBcj2`) reads front to back:
 *
 *   "SPXB" 0x01 | u64 size of the original | call, jump, main: u8 LZMA properties, u32 dictionary,
 *   u64 unpacked size, u64 packed size | u64 size of the range-coder stream | call, jump and range-coder
 *   bytes | main bytes (last: the decoder streams it)
 *
 * All integers little-endian. `bun scripts/lib/bcj2.ts IN OUT` packs IN into OUT.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SIGNATURE = [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c];
const LZMA = "030101";
const BCJ2 = "0303011b";

interface Coder {
  id: string;
  packed: number;
  props: Uint8Array;
}

interface Folder {
  coders: Coder[];
  bindPairs: { packedIndex: number; coder: number }[];
  packedStreams: number[];
  unpackSizes: bigint[];
}

/** A 7z archive's streams as this packer needs them: where each packed stream lies, and the folder. */
export interface SevenZipLayout {
  packOffsets: bigint[];
  packSizes: bigint[];
  folder: Folder;
}

class Reader {
  pos = 0;
  constructor(private readonly b: Uint8Array) {}
  byte(): number {
    if (this.pos >= this.b.length) throw new Error("7z header cut short");
    return this.b[this.pos++]!;
  }
  bytes(n: number): Uint8Array {
    if (this.pos + n > this.b.length) throw new Error("7z header cut short");
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  /** 7z's variable-length number: the first byte's leading one bits count the bytes that follow. */
  num(): bigint {
    const first = this.byte();
    let mask = 0x80;
    let value = 0n;
    for (let i = 0; i < 8; i++) {
      if ((first & mask) === 0) return value | (BigInt(first & (mask - 1)) << BigInt(8 * i));
      value |= BigInt(this.byte()) << BigInt(8 * i);
      mask >>= 1;
    }
    return value;
  }
  small(): number {
    const n = this.num();
    if (n > 1_000_000n) throw new Error("7z header: a count out of range");
    return Number(n);
  }
  expect(id: number, what: string): void {
    const got = this.byte();
    if (got !== id) throw new Error(`7z header: expected ${what} (0x${id.toString(16)}), found 0x${got.toString(16)}`);
  }
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function readFolder(r: Reader): Omit<Folder, "unpackSizes"> {
  const coders: Coder[] = [];
  const numCoders = r.small();
  for (let i = 0; i < numCoders; i++) {
    const flags = r.byte();
    if (flags & 0x80) throw new Error("7z header: alternative coder methods are not supported");
    const id = hex(r.bytes(flags & 0x0f));
    let packed = 1;
    if (flags & 0x10) {
      packed = r.small();
      if (r.small() !== 1) throw new Error("7z header: a coder with several outputs");
    }
    const props = flags & 0x20 ? r.bytes(r.small()) : new Uint8Array();
    coders.push({ id, packed, props });
  }
  const bindPairs = Array.from({ length: coders.length - 1 }, () => ({ packedIndex: r.small(), coder: r.small() }));
  const totalPacked = coders.reduce((n, c) => n + c.packed, 0);
  const free = totalPacked - bindPairs.length;
  let packedStreams: number[];
  if (free === 1) {
    const bound = new Set(bindPairs.map((p) => p.packedIndex));
    packedStreams = [Array.from({ length: totalPacked }, (_, i) => i).find((i) => !bound.has(i))!];
  } else packedStreams = Array.from({ length: free }, () => r.small());
  return { coders, bindPairs, packedStreams };
}

/** Reads the layout of a 7z archive with one folder and an uncompressed header (`7zz a -mhc=off`). */
export function readSevenZip(file: Uint8Array): SevenZipLayout {
  if (!SIGNATURE.every((b, i) => file[i] === b)) throw new Error("not a 7z archive");
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const nextOffset = view.getBigUint64(12, true);
  const nextSize = view.getBigUint64(20, true);
  const start = 32n + nextOffset;
  if (start + nextSize > BigInt(file.length)) throw new Error("7z header beyond the end of the file");
  const r = new Reader(file.subarray(Number(start), Number(start + nextSize)));
  const first = r.byte();
  if (first === 0x17) throw new Error("7z header is compressed: make the archive with -mhc=off");
  if (first !== 0x01) throw new Error("7z header: no header");
  r.expect(0x04, "main streams info");
  r.expect(0x06, "pack info");
  const packPos = r.num();
  const numPack = r.small();
  let packSizes: bigint[] = [];
  for (let id = r.byte(); id !== 0x00; id = r.byte()) {
    if (id === 0x09) packSizes = Array.from({ length: numPack }, () => r.num());
    else throw new Error(`7z header: unexpected pack info property 0x${id.toString(16)}`);
  }
  r.expect(0x07, "unpack info");
  r.expect(0x0b, "folder");
  if (r.small() !== 1) throw new Error("7z archive: expected exactly one folder");
  if (r.byte() !== 0) throw new Error("7z header: external folders are not supported");
  const folder = readFolder(r);
  r.expect(0x0c, "unpack sizes");
  const unpackSizes = folder.coders.map(() => r.num());
  const packOffsets: bigint[] = [];
  let at = 32n + packPos;
  for (const size of packSizes) {
    packOffsets.push(at);
    at += size;
  }
  return { packOffsets, packSizes, folder: { ...folder, unpackSizes } };
}

interface LzmaStream {
  props: Uint8Array;
  unpacked: bigint;
  offset: bigint;
  packed: bigint;
}

/** The four BCJ2 streams of a 7z layout: call, jump and main each through LZMA, the range coder's bytes as they are. */
export function bcj2Streams(layout: SevenZipLayout): {
  size: bigint;
  call: LzmaStream;
  jump: LzmaStream;
  main: LzmaStream;
  rc: { offset: bigint; size: bigint };
} {
  const { folder } = layout;
  const b = folder.coders.findIndex((c) => c.id === BCJ2);
  if (b < 0) throw new Error("7z archive: no BCJ2 coder");
  const firstPacked = (coder: number) => folder.coders.slice(0, coder).reduce((n, c) => n + c.packed, 0);
  const packedAt = (index: number) => {
    const k = folder.packedStreams.indexOf(index);
    if (k < 0) throw new Error("7z archive: a stream is neither bound nor packed");
    return { offset: layout.packOffsets[k]!, size: layout.packSizes[k]! };
  };
  const input = (k: number): LzmaStream | { offset: bigint; size: bigint } => {
    const index = firstPacked(b) + k;
    const pair = folder.bindPairs.find((p) => p.packedIndex === index);
    if (!pair) return packedAt(index);
    const coder = folder.coders[pair.coder]!;
    if (coder.id !== LZMA || coder.props.length !== 5) throw new Error("7z archive: a BCJ2 stream not fed by LZMA");
    const at = packedAt(firstPacked(pair.coder));
    return { props: coder.props, unpacked: folder.unpackSizes[pair.coder]!, offset: at.offset, packed: at.size };
  };
  const lzma = (k: number): LzmaStream => {
    const s = input(k);
    if (!("props" in s)) throw new Error(`7z archive: BCJ2 stream ${k} is not LZMA-compressed`);
    return s;
  };
  const rc = input(3);
  if ("props" in rc) throw new Error("7z archive: the range-coder stream should be stored as it is");
  return { size: folder.unpackSizes[b]!, main: lzma(0), call: lzma(1), jump: lzma(2), rc };
}

/** Packs `input` into `output` (SPXB); returns the bytes written. The main stream's dictionary covers the whole input. */
export function packBcj2(input: string, output: string, sevenZip = "7zz"): number {
  const dir = mkdtempSync(join(tmpdir(), "sentpulse-bcj2-"));
  try {
    const archive = join(dir, "agent.7z");
    const dictMiB = Math.min(1024, Math.max(1, Math.ceil(statSync(input).size / 2 ** 20)));
    const args = [
      sevenZip,
      "a",
      "-t7z",
      "-mhc=off",
      "-mtm=off",
      "-mtc=off",
      "-mta=off",
      "-mmt=1",
      "-m0=BCJ2",
      `-m1=LZMA:d=${dictMiB}m:fb=273:mc=10000:lc=3:lp=0:pb=2`,
      "-m2=LZMA:d=1m:lc=0:lp=2",
      "-m3=LZMA:d=1m:lc=0:lp=2",
      "-mb0s0:1",
      "-mb0s1:2",
      "-mb0s2:3",
      archive,
      input,
    ];
    const run = Bun.spawnSync(args, { stdout: "pipe", stderr: "pipe" });
    if (run.exitCode !== 0) throw new Error(`${sevenZip} failed: ${run.stderr.toString().slice(0, 2000)}`);
    const file = new Uint8Array(readFileSync(archive));
    const s = bcj2Streams(readSevenZip(file));
    const header = Buffer.alloc(4 + 1 + 8 + 3 * (1 + 4 + 8 + 8) + 8);
    let o = header.write("SPXB", 0, "latin1");
    o = header.writeUInt8(1, o);
    o = header.writeBigUInt64LE(s.size, o);
    for (const st of [s.call, s.jump, s.main]) {
      header.set(st.props, o);
      o += 5;
      o = header.writeBigUInt64LE(st.unpacked, o);
      o = header.writeBigUInt64LE(st.packed, o);
    }
    header.writeBigUInt64LE(s.rc.size, o);
    const slice = (offset: bigint, size: bigint) => file.subarray(Number(offset), Number(offset + size));
    const parts = [
      header,
      slice(s.call.offset, s.call.packed),
      slice(s.jump.offset, s.jump.packed),
      slice(s.rc.offset, s.rc.size),
      slice(s.main.offset, s.main.packed),
    ];
    const out = openSync(output, "w");
    let written = 0;
    try {
      for (const p of parts) written += writeSync(out, p);
    } finally {
      closeSync(out);
    }
    return written;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    console.error("usage: bun scripts/lib/bcj2.ts IN OUT");
    process.exit(2);
  }
  console.log(`${output}: ${packBcj2(input, output)} bytes`);
}
