import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { packBcj2 } from "../../scripts/lib/bcj2.ts";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { parseRange } from "./downloads.ts";

/**
 * Agent downloads and the shell installer against the real server. The "agent" here is a small
 * executable standing in for the 110 MB binary (what is measured on real builds is in
 * scripts/bench-downloads.ts); the installer, curl, gzip, xz and sha256sum are the real programs.
 */
let srv: TestServer;
let dir: string;
const binary = new TextEncoder().encode(`#!/bin/sh\necho "fake agent ${"x".repeat(4000)}"\n`);
const sha = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
const agentPath = () => join(dir, "sentpulse-agent-linux-x64");

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sentpulse-dl-"));
  writeFileSync(agentPath(), binary);
  chmodSync(agentPath(), 0o755);
  srv = await startTestServer({ agentDistDir: dir });
}, 120_000);
afterAll(() => srv.stop());

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${srv.url}${path}`, { headers });

describe("downloads", () => {
  test("SHA256SUMS lists each built binary as sha256sum prints it", async () => {
    const res = await get("/download/agent/SHA256SUMS");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(`${sha(binary)}  sentpulse-agent-linux-x64\n`);
  });

  test("as built: length, strong ETag, the binary's checksum, 304 when unchanged", async () => {
    const res = await get("/download/agent/linux-x64");
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(binary);
    expect(res.headers.get("content-length")).toBe(String(binary.length));
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(res.headers.get("x-sentpulse-sha256")).toBe(sha(binary));
    expect(res.headers.get("etag")).toBe(`"${sha(binary)}"`);
    const again = await get("/download/agent/linux-x64", { "if-none-match": `"${sha(binary)}"` });
    expect(again.status).toBe(304);
  });

  test("gzip is made on first request and served with its own ETag; it unpacks to the binary", async () => {
    expect(existsSync(`${agentPath()}.gz`)).toBe(false);
    const res = await get("/download/agent/linux-x64?compression=gzip");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/gzip");
    const body = new Uint8Array(await res.arrayBuffer());
    expect(body.length).toBeLessThan(binary.length / 10);
    expect(new Uint8Array(gunzipSync(body))).toEqual(binary);
    expect(res.headers.get("etag")).toBe(`"${sha(body)}"`);
    expect(res.headers.get("x-sentpulse-sha256")).toBe(sha(binary)); // the binary's, not the archive's
    expect(existsSync(`${agentPath()}.gz`)).toBe(true);
  });

  test("Range resumes a cut download; If-Range with another ETag sends it whole; an unsatisfiable range is 416", async () => {
    const part = await get("/download/agent/linux-x64", { range: "bytes=0-9" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 0-9/${binary.length}`);
    const head = new Uint8Array(await part.arrayBuffer());
    const rest = await get("/download/agent/linux-x64", { range: "bytes=10-", "if-range": `"${sha(binary)}"` });
    expect(rest.status).toBe(206);
    const tail = new Uint8Array(await rest.arrayBuffer());
    expect(new Uint8Array([...head, ...tail])).toEqual(binary);
    const changed = await get("/download/agent/linux-x64", { range: "bytes=10-", "if-range": '"something-else"' });
    expect(changed.status).toBe(200);
    expect((await changed.arrayBuffer()).byteLength).toBe(binary.length);
    for (const range of [`bytes=${binary.length}-`, "bytes=5-2", "bytes=-0", "bytes=0-1,4-5", "lines=1-2"]) {
      const res = await get("/download/agent/linux-x64", { range });
      expect([range, res.status]).toEqual([range, 416]);
      expect(res.headers.get("content-range")).toBe(`bytes */${binary.length}`);
    }
  });

  test("xz only when built (404 that says so), then served; bad targets and compressions are 422", async () => {
    const missing = await get("/download/agent/linux-x64?compression=xz");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("AGENT_NOT_BUILT");
    expect(Bun.spawnSync(["xz", "-k", "-f", agentPath()]).exitCode).toBe(0);
    // made from another build: not served
    writeFileSync(`${agentPath()}.xz.source-sha256`, `${sha(new Uint8Array([1]))}\n`);
    expect((await get("/download/agent/linux-x64?compression=xz")).status).toBe(404);
    writeFileSync(`${agentPath()}.xz.source-sha256`, `${sha(binary)}\n`);
    const res = await get("/download/agent/linux-x64?compression=xz");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-xz");
    expect((await get("/download/agent/linux-arm64")).status).toBe(404);
    expect((await get("/download/agent/plan9-x64")).status).toBe(422);
    expect((await get("/download/agent/linux-x64?compression=zip")).status).toBe(422);
  });

  test("the BCJ2 package (the Windows installer's) only when built, then served resumable, byte for byte what was packed", async () => {
    const missing = await get("/download/agent/linux-x64?compression=bcj2");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toContain("no bcj2 copy");
    packBcj2(agentPath(), `${agentPath()}.bcj2`);
    const packed = new Uint8Array(readFileSync(`${agentPath()}.bcj2`));
    expect(new TextDecoder().decode(packed.subarray(0, 4))).toBe("SPXB");
    writeFileSync(`${agentPath()}.bcj2.source-sha256`, `${sha(binary)}\n`);
    const res = await get("/download/agent/linux-x64?compression=bcj2");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="sentpulse-agent.bcj2"');
    expect(res.headers.get("x-sentpulse-sha256")).toBe(sha(binary));
    const body = new Uint8Array(await res.arrayBuffer());
    expect(body).toEqual(packed);
    expect(res.headers.get("etag")).toBe(`"${sha(body)}"`);
    const tail = await get("/download/agent/linux-x64?compression=bcj2", { range: "bytes=10-" });
    expect(tail.status).toBe(206);
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(body.subarray(10));
  });
});

describe("the shell installer", () => {
  const installer = async () => {
    const path = join(dir, "install.sh");
    writeFileSync(path, await (await get("/install.sh")).text());
    return path;
  };
  /** Runs the installer (async: the server under test answers from this same process). */
  const run = async (script: string, target: string, env: Record<string, string> = {}) => {
    const p = Bun.spawn(["sh", script, "--download-only", target], { env: { ...process.env, ...env }, stderr: "pipe", stdout: "pipe" });
    const [exitCode, stdout, stderr] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
    return { exitCode, stdout, stderr };
  };

  test("downloads with xz where xz is installed, checks the checksum, leaves an executable agent", async () => {
    const target = join(dir, "out-xz", "sentpulse-agent");
    const p = await run(await installer(), target);
    expect([p.exitCode, p.stderr]).toEqual([0, expect.any(String)]);
    expect(p.stdout).toContain(`downloaded and checked: ${target}`);
    expect(p.stdout).toContain("(xz)");
    expect(p.stdout).not.toContain("(gzip)");
    expect(sha(readFileSync(target))).toBe(sha(binary));
    expect(Bun.spawnSync([target]).stdout.toString()).toStartWith("fake agent");
  });

  /** A PATH with the programs the installer needs, without xz; `tar` is the given one (or none). */
  const pathWithout = (name: string, tar?: string) => {
    const bin = join(dir, name);
    mkdirSync(bin, { recursive: true });
    for (const tool of [
      "sh",
      "curl",
      "awk",
      "grep",
      "gzip",
      "sha256sum",
      "cut",
      "mkdir",
      "dirname",
      "chmod",
      "mv",
      "rm",
      "uname",
      "id",
      "cat",
    ]) {
      const found = Bun.which(tool);
      if (found && !existsSync(join(bin, tool))) symlinkSync(found, join(bin, tool));
    }
    if (tar && !existsSync(join(bin, "tar"))) symlinkSync(tar, join(bin, "tar"));
    return bin;
  };

  test("without an xz program, takes the xz-compressed tar when tar reads xz itself (macOS's bsdtar)", async () => {
    const bsdtar = Bun.which("bsdtar");
    expect(bsdtar).toBeTruthy(); // Debian's libarchive-tools: the same bsdtar macOS ships
    const staging = mkdtempSync(join(tmpdir(), "sentpulse-txz-"));
    writeFileSync(join(staging, "sentpulse-agent"), binary);
    expect(Bun.spawnSync(["sh", "-c", `tar -C '${staging}' -cf - sentpulse-agent | xz -c > '${agentPath()}.tar.xz'`]).exitCode).toBe(0);
    writeFileSync(`${agentPath()}.tar.xz.source-sha256`, `${sha(binary)}\n`);
    const target = join(dir, "out-txz", "sentpulse-agent");
    const p = await run(await installer(), target, { PATH: pathWithout("bsdtar-bin", bsdtar ?? "") });
    expect([p.exitCode, p.stderr]).toEqual([0, expect.any(String)]);
    expect(p.stdout).toContain("(txz)");
    expect(p.stdout).not.toContain("(gzip)");
    expect(sha(readFileSync(target))).toBe(sha(binary));
    const served = await get("/download/agent/linux-x64?compression=txz");
    expect([served.status, served.headers.get("content-disposition")]).toEqual([200, 'attachment; filename="sentpulse-agent.tar.xz"']);
  });

  test("falls back to gzip without xz or an xz-reading tar", async () => {
    const target = join(dir, "out-gz", "sentpulse-agent");
    const p = await run(await installer(), target, { PATH: pathWithout("no-xz-bin") });
    expect([p.exitCode, p.stderr]).toEqual([0, expect.any(String)]);
    expect(p.stdout).toContain("(gzip)");
    expect(sha(readFileSync(target))).toBe(sha(binary));
  });

  test("a tampered download fails the checksum: nothing is installed", async () => {
    // the served archives now unpack to something else, while still claiming the binary as their source
    const evil = new TextEncoder().encode("#!/bin/sh\necho owned\n");
    writeFileSync(`${agentPath()}.gz`, gzipSync(evil));
    expect(Bun.spawnSync(["sh", "-c", `printf '#!/bin/sh\\necho owned\\n' | xz -c > '${agentPath()}.xz'`]).exitCode).toBe(0);
    const target = join(dir, "out-evil", "sentpulse-agent");
    const p = await run(await installer(), target);
    expect(p.exitCode).toBe(1);
    expect(p.stderr).toContain("checksum mismatch for sentpulse-agent-linux-x64");
    expect(existsSync(target)).toBe(false);
    expect(existsSync(`${target}.download`)).toBe(false);
  });
});

describe("parseRange", () => {
  test("single ranges only, clamped to the file", () => {
    expect(parseRange(null, 100)).toBeNull();
    expect(parseRange("bytes=0-99", 100)).toEqual({ start: 0, end: 99 });
    expect(parseRange("bytes=90-200", 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange("bytes=-10", 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange("bytes=-500", 100)).toEqual({ start: 0, end: 99 });
    for (const bad of ["bytes=100-", "bytes=-", "bytes=a-b", "bytes=1-2,3-4", "bytes=9007199254740993-"])
      expect([bad, parseRange(bad, 100)]).toEqual([bad, "invalid"]);
  });
});
