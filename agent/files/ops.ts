import type { Dirent, Stats } from "node:fs";
import { chmod, chown, cp, lstat, mkdir, opendir, readlink, realpath, rename, rm, rmdir, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { EntryType, FileCount, FileEntry, FileList, FileOpResult, FileStat } from "../../server/protocol/files.ts";
import { MAX_LIST_ENTRIES, MAX_NAME_CHARS, MAX_WALK_ENTRIES } from "../../server/protocol/files-limits.ts";
import { groupId, groupName, userId, userName } from "./accounts.ts";
import { FilesError, fsError, resolveEntry, resolveFollowing, within } from "./paths.ts";

/** Bytes of JSON a listing may take: its frame must stay under the protocol's 1 MiB. */
const MAX_ANSWER_BYTES = 900_000;

/** The account this process acts as, for the session to show. */
function runAs(): string {
  return process.getuid ? userName(process.getuid()) : "SYSTEM";
}

function typeOf(s: Stats | Dirent): EntryType {
  if (s.isSymbolicLink()) return "link";
  if (s.isDirectory()) return "dir";
  if (s.isFile()) return "file";
  return "other";
}

/** One entry as a listing shows it (from lstat: a symlink is shown as a link with its target, not followed). */
async function entryOf(path: string, name: string, s: Stats): Promise<FileEntry> {
  const e: FileEntry = {
    name: name.slice(0, MAX_NAME_CHARS),
    type: typeOf(s),
    size: s.size,
    mtime: s.mtimeMs,
    mode: s.mode & 0o7777,
    owner: userName(s.uid),
    group: groupName(s.gid),
  };
  if (e.type === "link") {
    e.target = (await readlink(path).catch(() => "")).slice(0, 4096);
    const t = await stat(path).catch(() => undefined);
    e.targetType = t ? (t.isDirectory() ? "dir" : t.isFile() ? "file" : "other") : "missing";
  }
  return e;
}

/** A directory's entries (hidden ones, starting with a dot, only when asked), at most MAX_LIST_ENTRIES. */
export async function list(path: string, hidden: boolean): Promise<FileList> {
  const dir = await resolveFollowing(path);
  const items: FileEntry[] = [];
  let truncated = false;
  let size = 200;
  try {
    const handle = await opendir(dir, { bufferSize: 256 });
    for await (const d of handle) {
      if (!hidden && d.name.startsWith(".")) continue;
      const full = join(dir, d.name);
      const s = await lstat(full).catch(() => undefined);
      if (!s) continue; // gone since the directory was read
      const e = await entryOf(full, d.name, s);
      size += JSON.stringify(e).length + 1;
      if (items.length >= MAX_LIST_ENTRIES || size > MAX_ANSWER_BYTES) {
        truncated = true;
        break; // leaving the loop closes the directory
      }
      items.push(e);
    }
  } catch (err) {
    throw fsError(err, path);
  }
  return { path: dir, items, truncated, runAs: runAs() };
}

/** Properties of one entry (a symlink's own, with its resolved path). */
export async function properties(path: string): Promise<FileStat> {
  const entry = await resolveEntry(path);
  let s: Stats;
  try {
    s = await lstat(entry);
  } catch (err) {
    throw fsError(err, path);
  }
  const name = entry === dirname(entry) ? entry : entry.slice(dirname(entry).length).replace(/^[\\/]+/, "");
  return {
    path: entry,
    realPath: await realpath(entry).catch(() => null),
    entry: await entryOf(entry, name, s),
    atime: s.atimeMs,
    ctime: s.ctimeMs,
    birthtime: s.birthtimeMs > 0 ? s.birthtimeMs : null,
    uid: s.uid,
    gid: s.gid,
    runAs: runAs(),
  };
}

/**
 * Counts what is at and below `path` without following symlinks; more than MAX_WALK_ENTRIES →
 * `TOO_MANY_ENTRIES` (the confirmation of a recursive delete shows the count first).
 */
export async function count(path: string): Promise<FileCount> {
  const root = await resolveEntry(path);
  const c: FileCount = { files: 0, dirs: 0, links: 0, bytes: 0 };
  const stack = [root];
  let seen = 0;
  while (stack.length > 0) {
    const p = stack.pop() as string;
    let s: Stats;
    try {
      s = await lstat(p);
    } catch (err) {
      if (p === root) throw fsError(err, path);
      continue;
    }
    if (++seen > MAX_WALK_ENTRIES) throw new FilesError("TOO_MANY_ENTRIES", `more than ${MAX_WALK_ENTRIES} entries below ${path}`);
    if (s.isSymbolicLink()) c.links++;
    else if (s.isDirectory()) {
      c.dirs++;
      try {
        const handle = await opendir(p, { bufferSize: 256 });
        for await (const d of handle) stack.push(join(p, d.name));
      } catch (err) {
        throw fsError(err, p);
      }
    } else {
      c.files++;
      c.bytes += s.size;
    }
  }
  return c;
}

const total = (c: FileCount) => c.files + c.dirs + c.links;

function refuseRoot(p: string): void {
  if (dirname(p) === p) throw new FilesError("PROTECTED_PATH", `${p} is the root of a file system`);
}

export async function makeDir(path: string): Promise<FileOpResult> {
  const p = await resolveEntry(path);
  try {
    await mkdir(p, { mode: 0o755 });
  } catch (err) {
    throw fsError(err, path);
  }
  return { entries: 1 };
}

/** Removes an existing destination before an overwrite: a file or link, or an empty directory (never a tree). */
async function clearDestination(dest: string, overwrite: boolean, what: string): Promise<void> {
  const s = await lstat(dest).catch(() => undefined);
  if (!s) return;
  if (!overwrite) throw new FilesError("EXISTS", `${what} already exists`);
  try {
    if (s.isDirectory()) await rmdir(dest);
    else await unlink(dest);
  } catch (err) {
    throw fsError(err, what);
  }
}

/** Rename or move; across file systems the tree is copied (symlinks as links) and the source removed. */
export async function move(path: string, to: string, overwrite: boolean): Promise<FileOpResult> {
  const src = await resolveEntry(path);
  const dest = await resolveEntry(to);
  refuseRoot(src);
  if (src === dest) return { entries: 0 };
  if (within(src, dest)) throw new FilesError("INVALID_MOVE", `${to} is inside ${path}`);
  const c = await count(src);
  await clearDestination(dest, overwrite, to);
  try {
    await rename(src, dest);
  } catch (err) {
    if ((err as { code?: string }).code !== "EXDEV") throw fsError(err, path);
    try {
      await cp(src, dest, { recursive: true, verbatimSymlinks: true, errorOnExist: true, force: false, preserveTimestamps: true });
      await rm(src, { recursive: true });
    } catch (e) {
      throw fsError(e, path);
    }
  }
  return { entries: total(c) };
}

/** Copies a file or a tree (symlinks copied as links, never followed). */
export async function copy(path: string, to: string, overwrite: boolean): Promise<FileOpResult> {
  const src = await resolveEntry(path);
  const dest = await resolveEntry(to);
  if (within(src, dest)) throw new FilesError("INVALID_COPY", `${to} is inside ${path}`);
  const c = await count(src);
  await clearDestination(dest, overwrite, to);
  try {
    await cp(src, dest, { recursive: true, verbatimSymlinks: true, errorOnExist: true, force: false, preserveTimestamps: true });
  } catch (err) {
    throw fsError(err, to);
  }
  return { entries: total(c) };
}

/** Deletes an entry (a symlink itself, never its target); a non-empty directory only when `recursive`. */
export async function remove(path: string, recursive: boolean): Promise<FileOpResult> {
  const p = await resolveEntry(path);
  refuseRoot(p);
  const s = await lstat(p).catch((err) => {
    throw fsError(err, path);
  });
  try {
    if (!s.isDirectory()) {
      await unlink(p);
      return { entries: 1 };
    }
    if (!recursive) {
      await rmdir(p);
      return { entries: 1 };
    }
    const c = await count(p);
    await rm(p, { recursive: true });
    return { entries: total(c) };
  } catch (err) {
    throw fsError(err, path);
  }
}

export async function changeMode(path: string, mode: number): Promise<FileOpResult> {
  const p = await resolveFollowing(path);
  try {
    await chmod(p, mode);
  } catch (err) {
    throw fsError(err, path);
  }
  return { entries: 1 };
}

export async function changeOwner(path: string, owner: string | undefined, group: string | undefined): Promise<FileOpResult> {
  if (owner === undefined && group === undefined) throw new FilesError("INVALID_REQUEST", "name an owner, a group or both");
  const uid = owner === undefined ? -1 : userId(owner);
  const gid = group === undefined ? -1 : groupId(group);
  if (uid === undefined) throw new FilesError("NO_SUCH_ACCOUNT", `no user ${owner} on this device`);
  if (gid === undefined) throw new FilesError("NO_SUCH_ACCOUNT", `no group ${group} on this device`);
  const p = await resolveFollowing(path);
  try {
    await chown(p, uid, gid);
  } catch (err) {
    throw fsError(err, path);
  }
  return { entries: 1 };
}
