import { createReadStream, createWriteStream, existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { log } from "../log.ts";

/** The agent builds a server hands out. */
export const AGENT_TARGETS = ["linux-x64", "linux-arm64", "windows-x64", "darwin-x64", "darwin-arm64"] as const;
export type AgentTarget = (typeof AGENT_TARGETS)[number];
/**
 * How an agent travels: as built, gzip (every installer can undo it), xz (a third of the size, where
 * the `xz` program exists), or txz: the binary alone in a tar, xz-compressed, for systems whose `tar`
 * reads xz itself but that have no `xz` program (macOS), or bcj2: 7-Zip's BCJ2 filter for x86 code with
 * LZMA on its streams (scripts/lib/bcj2.ts), which the Windows installer unpacks with its own decoder
 * (server/enrollment/lzma-decoder.ts).
 */
export type Compression = "none" | "gzip" | "xz" | "txz" | "bcj2";

export const SUFFIX: Record<Compression, string> = { none: "", gzip: ".gz", xz: ".xz", txz: ".tar.xz", bcj2: ".bcj2" };
const TYPE: Record<Compression, string> = {
  none: "application/octet-stream",
  gzip: "application/gzip",
  xz: "application/x-xz",
  txz: "application/x-xz",
  bcj2: "application/octet-stream",
};

export const agentFileName = (target: AgentTarget) => `sentpulse-agent-${target}${target.startsWith("windows") ? ".exe" : ""}`;

/** A file as served: where it is, its length, its SHA-256 (the strong ETag) and its type. */
interface Served {
  path: string;
  size: number;
  sha256: string;
  type: string;
}

/**
 * Agent downloads: the binaries in the agent directory, compressed (gzip made here on first request,
 * in the thread pool so the event loop keeps serving; the others only when `scripts/build-agents` made them,
 * since it takes minutes), each with its SHA-256 (computed once per build, by size and mtime) for the
 * checksum list the installers verify and for strong ETags that make Range requests resumable. A
 * compressed copy is served only while its `.source-sha256` names the binary as it is now (a binary
 * rebuilt after its copy was made never travels as the older build).
 */
export class AgentDownloads {
  private readonly hashes = new Map<string, { key: string; sha256: string }>();
  private readonly gzipping = new Map<string, Promise<void>>();

  constructor(private readonly dir: string) {}

  private async sha256(path: string): Promise<string> {
    const st = statSync(path);
    const key = `${st.size}:${st.mtimeMs}`;
    const known = this.hashes.get(path);
    if (known?.key === key) return known.sha256;
    const hasher = new Bun.CryptoHasher("sha256");
    for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
    const sha256 = hasher.digest("hex");
    this.hashes.set(path, { key, sha256 });
    return sha256;
  }

  /** The binary of a target, or undefined when it was not built on this server. */
  private binary(target: AgentTarget): string | undefined {
    const path = join(this.dir, agentFileName(target));
    return existsSync(path) ? path : undefined;
  }

  /** True when the compressed copy was made from the binary as it is now. */
  private async current(binary: string, copy: string): Promise<boolean> {
    if (!existsSync(copy) || !existsSync(`${copy}.source-sha256`)) return false;
    return readFileSync(`${copy}.source-sha256`, "utf8").trim() === (await this.sha256(binary));
  }

  /** Makes (or remakes, after a rebuild) the gzip copy next to the binary. */
  private async gzip(binary: string): Promise<void> {
    const out = `${binary}.gz`;
    if (await this.current(binary, out)) return;
    let running = this.gzipping.get(binary);
    if (!running) {
      const tmp = `${out}.${process.pid}.tmp`;
      const started = performance.now();
      const source = await this.sha256(binary);
      running = pipeline(createReadStream(binary), createGzip({ level: 9 }), createWriteStream(tmp))
        .then(() => {
          renameSync(tmp, out);
          writeFileSync(`${out}.source-sha256`, `${source}\n`);
          log("info", "agent download compressed", { file: out, bytes: statSync(out).size, ms: Math.round(performance.now() - started) });
        })
        .finally(() => this.gzipping.delete(binary));
      this.gzipping.set(binary, running);
    }
    return running;
  }

  /** The file to send for a target and compression; undefined when there is none. */
  async file(target: AgentTarget, compression: Compression): Promise<Served | undefined> {
    const binary = this.binary(target);
    if (!binary) return undefined;
    if (compression === "gzip") await this.gzip(binary);
    const path = binary + SUFFIX[compression];
    if (compression !== "none" && !(await this.current(binary, path))) return undefined;
    return { path, size: statSync(path).size, sha256: await this.sha256(path), type: TYPE[compression] };
  }

  /** `sha256  name` lines (sha256sum's format) for every built binary: what the installers check after decompressing. */
  async checksums(): Promise<string> {
    const lines: string[] = [];
    for (const target of AGENT_TARGETS) {
      const binary = this.binary(target);
      if (binary) lines.push(`${await this.sha256(binary)}  ${agentFileName(target)}`);
    }
    return lines.length ? `${lines.join("\n")}\n` : "";
  }

  /** The binary's own SHA-256 (whatever compression carries it). */
  async binarySha256(target: AgentTarget): Promise<string | undefined> {
    const binary = this.binary(target);
    return binary ? this.sha256(binary) : undefined;
  }
}

/** One `bytes=a-b`, `bytes=a-` or `bytes=-n` range of a file of `size` bytes; null when absent, "invalid" when unsatisfiable. */
export function parseRange(header: string | null, size: number): { start: number; end: number } | null | "invalid" {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return "invalid"; // several ranges or a malformed one: not served partially
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0) return "invalid";
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (!Number.isSafeInteger(start) || start >= size || end < start) return "invalid";
  return { start, end };
}
