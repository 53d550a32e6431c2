import { constants } from "node:fs";
import { chmod, type FileHandle, lstat, open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { ReadChunk, WriteDone, WriteOffset } from "../../server/protocol/files.ts";
import { FilesError, fsError, resolveEntry, resolveFollowing } from "./paths.ts";

/**
 * Chunks of transfers, in the worker that does the file operations: a download's file and an
 * upload's partial file stay open between chunks, and each keeps a SHA-256 of what went through it,
 * so the checksum costs no second read. After a restart (of the agent or this worker) the state is
 * rebuilt from the file: the hash is caught up by reading the bytes already done, once.
 */

/** A transfer nobody asked about for this long has its file closed (the next chunk reopens it). */
const IDLE_MS = 60_000;
/** Transfers open at once in one worker, at most. */
const MAX_OPEN = 64;
/** Bytes read at a time to catch up a hash. */
const HASH_PIECE = 1_048_576;

interface Open {
  fd: FileHandle;
  path: string;
  hasher: Bun.CryptoHasher;
  hashedTo: number;
  sha256?: string;
  lastUse: number;
}

/** The next chunk of a download, read while the current one travels. */
interface Ahead {
  offset: number;
  length: number;
  ready: Promise<Buffer | undefined>;
}

const reads = new Map<string, Open & { size: number; mtime: number; ahead?: Ahead }>();
const writes = new Map<string, Open & { part: string }>();

const sweeper = setInterval(() => {
  const now = Date.now();
  for (const [m, id, s] of [...[...reads].map(([i, v]) => [reads, i, v] as const), ...[...writes].map(([i, v]) => [writes, i, v] as const)])
    if (now - s.lastUse > IDLE_MS) {
      (m as Map<string, Open>).delete(id);
      void s.fd.close().catch(() => undefined);
    }
}, 10_000);
sweeper.unref?.();

function room(m: Map<string, Open>): void {
  if (reads.size + writes.size < MAX_OPEN) return;
  const [oldest] = [...m].sort((a, b) => a[1].lastUse - b[1].lastUse)[0] ?? [];
  if (oldest === undefined) throw new FilesError("TOO_MANY_TRANSFERS", "too many transfers at once on this device");
  void m
    .get(oldest)
    ?.fd.close()
    .catch(() => undefined);
  m.delete(oldest);
}

/** Feeds the hasher the file's bytes from `from` to `to` (a catch-up after a restart). */
async function hashRange(fd: FileHandle, hasher: Bun.CryptoHasher, from: number, to: number): Promise<void> {
  const buf = Buffer.allocUnsafe(HASH_PIECE);
  for (let at = from; at < to; ) {
    const { bytesRead } = await fd.read(buf, 0, Math.min(HASH_PIECE, to - at), at);
    if (bytesRead === 0) throw new FilesError("CHANGED", "the file became shorter");
    hasher.update(buf.subarray(0, bytesRead));
    at += bytesRead;
  }
}

async function readFully(fd: FileHandle, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fd.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw new FilesError("CHANGED", "the file became shorter during the download");
    done += bytesRead;
  }
  return buf;
}

/**
 * One chunk of a download: its bytes (raw; the agent sends them as the server takes them) and the
 * answer without them. A file whose size or modification time differs from the first stat's is
 * refused (`CHANGED`).
 */
export async function readChunk(r: {
  transferId: string;
  path: string;
  offset: number;
  length: number;
  size: number;
  mtime: number;
}): Promise<{ chunk: ReadChunk; bytes: Buffer }> {
  let s = reads.get(r.transferId);
  if (!s || s.path !== r.path) {
    room(reads);
    const real = await resolveFollowing(r.path);
    let fd: FileHandle;
    try {
      fd = await open(real, constants.O_RDONLY);
    } catch (err) {
      throw fsError(err, r.path);
    }
    const st = await fd.stat();
    if (!st.isFile()) {
      await fd.close();
      throw new FilesError("NOT_A_FILE", `${r.path} is not a regular file`);
    }
    s = { fd, path: r.path, size: r.size, mtime: r.mtime, hasher: new Bun.CryptoHasher("sha256"), hashedTo: 0, lastUse: Date.now() };
    reads.set(r.transferId, s);
  }
  s.lastUse = Date.now();
  const st = await s.fd.stat();
  if (st.size !== r.size || Math.trunc(st.mtimeMs) !== Math.trunc(r.mtime))
    throw new FilesError("CHANGED", `${r.path} changed since the download started`);
  if (r.offset > r.size) throw new FilesError("INVALID_OFFSET", `offset ${r.offset} is past the end (${r.size})`);
  const n = Math.min(r.length, r.size - r.offset);
  const ahead = s.ahead && s.ahead.offset === r.offset && s.ahead.length === n ? await s.ahead.ready : undefined;
  s.ahead = undefined;
  const buf = ahead ?? (await readFully(s.fd, n, r.offset));
  if (s.hashedTo < r.offset) await hashRange(s.fd, s.hasher, s.hashedTo, r.offset);
  if (r.offset + n > Math.max(s.hashedTo, r.offset)) s.hasher.update(buf.subarray(Math.max(0, s.hashedTo - r.offset)));
  s.hashedTo = Math.max(s.hashedTo, r.offset + n);
  const eof = r.offset + n === r.size;
  if (eof) s.sha256 ??= s.hasher.digest("hex");
  else {
    // read the next chunk now: the server asks for it as soon as this one arrived (one chunk of memory more)
    const at = r.offset + n;
    const length = Math.min(r.length, r.size - at);
    const fd = s.fd;
    s.ahead = {
      offset: at,
      length,
      ready: readFully(fd, length, at).catch(() => undefined),
    };
  }
  return { chunk: { eof, ...(eof ? { sha256: s.sha256 } : {}) }, bytes: buf };
}

/** Where an upload is written until it is whole: beside its target, hidden, named by the transfer. */
function partPath(target: string, transferId: string): string {
  return join(dirname(target), `.sentpulse-${transferId}.part`);
}

/** Refuses a target that is a directory, or that exists when not overwriting. */
async function checkTarget(target: string, path: string, overwrite: boolean): Promise<void> {
  const t = await lstat(target).catch(() => undefined);
  if (t?.isDirectory()) throw new FilesError("IS_A_DIRECTORY", `${path} is a directory`);
  if (t && !overwrite) throw new FilesError("EXISTS", `${path} already exists`);
}

/** The partial file's length (0 when there is none): where the upload resumes. */
export async function writeStatus(r: { transferId: string; path: string; overwrite: boolean }): Promise<WriteOffset> {
  const target = await resolveEntry(r.path);
  await checkTarget(target, r.path, r.overwrite);
  const part = partPath(target, r.transferId);
  const s = await lstat(part).catch((err) => {
    if ((err as { code?: string }).code === "ENOENT") return undefined;
    throw fsError(err, dirname(r.path));
  });
  if (s && !s.isFile()) throw new FilesError("SYMLINK_ESCAPE", `${basename(part)} is not a regular file`);
  if (!s) {
    // the directory must exist and be writable: create the partial file now
    try {
      const fd = await open(part, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      await fd.close();
    } catch (err) {
      throw fsError(err, r.path);
    }
  }
  return { offset: s?.size ?? 0 };
}

async function openPart(transferId: string, path: string): Promise<Open & { part: string }> {
  let s = writes.get(transferId);
  if (s && s.path === path) return s;
  room(writes);
  const target = await resolveEntry(path);
  const part = partPath(target, transferId);
  let fd: FileHandle;
  try {
    // never through a symlink planted in the partial file's place
    fd = await open(part, constants.O_RDWR | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") throw new FilesError("OFFSET_MISMATCH", "the partial file is gone: start again");
    throw fsError(err, path);
  }
  s = { fd, path, part, hasher: new Bun.CryptoHasher("sha256"), hashedTo: 0, lastUse: Date.now() };
  writes.set(transferId, s);
  return s;
}

/** Writes one chunk's bytes at `offset`, which must be the partial file's length (`OFFSET_MISMATCH` otherwise). */
export async function writeChunk(r: { transferId: string; path: string; offset: number }, buf: Uint8Array): Promise<WriteOffset> {
  const s = await openPart(r.transferId, r.path);
  s.lastUse = Date.now();
  const size = (await s.fd.stat()).size;
  if (size !== r.offset) throw new FilesError("OFFSET_MISMATCH", `the partial file holds ${size} bytes, not ${r.offset}`);
  if (s.hashedTo !== r.offset) {
    s.hasher = new Bun.CryptoHasher("sha256");
    await hashRange(s.fd, s.hasher, 0, r.offset);
  }
  try {
    for (let done = 0; done < buf.length; ) done += (await s.fd.write(buf, done, buf.length - done, r.offset + done)).bytesWritten;
  } catch (err) {
    throw fsError(err, r.path);
  }
  s.hasher.update(buf);
  s.hashedTo = r.offset + buf.length;
  return { offset: s.hashedTo };
}

/** Checks size and SHA-256 of the whole upload, then gives the partial file the target's name (atomically). */
export async function commitWrite(r: {
  transferId: string;
  path: string;
  size: number;
  sha256: string;
  overwrite: boolean;
}): Promise<WriteDone> {
  const s = await openPart(r.transferId, r.path);
  const size = (await s.fd.stat()).size;
  if (size !== r.size) throw new FilesError("OFFSET_MISMATCH", `the partial file holds ${size} bytes, not ${r.size}`);
  if (s.hashedTo !== size) {
    s.hasher = new Bun.CryptoHasher("sha256");
    await hashRange(s.fd, s.hasher, 0, size);
    s.hashedTo = size;
  }
  s.sha256 ??= s.hasher.digest("hex");
  const sha256 = s.sha256;
  writes.delete(r.transferId);
  await s.fd.close();
  const target = await resolveEntry(r.path);
  if (sha256 !== r.sha256) {
    await unlink(s.part).catch(() => undefined);
    throw new FilesError("CHECKSUM_MISMATCH", `SHA-256 of what arrived is ${sha256}, expected ${r.sha256}`);
  }
  await checkTarget(target, r.path, r.overwrite);
  try {
    await chmod(s.part, 0o644);
    await rename(s.part, target);
  } catch (err) {
    throw fsError(err, r.path);
  }
  return { size, sha256 };
}

/** Drops an upload: its partial file is removed. */
export async function abortWrite(r: { transferId: string; path: string }): Promise<WriteOffset> {
  const s = writes.get(r.transferId);
  writes.delete(r.transferId);
  await s?.fd.close().catch(() => undefined);
  const target = await resolveEntry(r.path);
  await unlink(partPath(target, r.transferId)).catch(() => undefined);
  return { offset: 0 };
}
