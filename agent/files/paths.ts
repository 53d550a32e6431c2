import { realpath } from "node:fs/promises";
import { dirname, isAbsolute, join, normalize, relative } from "node:path";
import { FILE_PATH_PATTERN } from "../../server/protocol/files-limits.ts";

/** A refusal or failure with a stable code, answered as `{ ok: false, code, message }`. */
export class FilesError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const PATH = new RegExp(FILE_PATH_PATTERN);

/** The error codes of the file system errors a technician can act on. */
export function fsError(err: unknown, path: string): FilesError {
  if (err instanceof FilesError) return err;
  const code = (err as { code?: string }).code;
  switch (code) {
    case "ENOENT":
      return new FilesError("NOT_FOUND", `${path} does not exist`);
    case "EACCES":
    case "EPERM":
      return new FilesError("PERMISSION_DENIED", `permission denied: ${path}`);
    case "EEXIST":
      return new FilesError("EXISTS", `${path} already exists`);
    case "ENOTDIR":
      return new FilesError("NOT_A_DIRECTORY", `${path} is not a directory`);
    case "EISDIR":
      return new FilesError("IS_A_DIRECTORY", `${path} is a directory`);
    case "ENOTEMPTY":
      return new FilesError("NOT_EMPTY", `${path} is not empty`);
    case "ENOSPC":
    case "EDQUOT":
      return new FilesError("NO_SPACE", "no space left on the device");
    case "EROFS":
      return new FilesError("READ_ONLY", `${path} is on a read-only file system`);
    case "EBUSY":
      return new FilesError("BUSY", `${path} is in use`);
    default:
      return new FilesError("FILES_FAILED", `${code ?? "error"}: ${String((err as Error).message ?? err).slice(0, 300)}`);
  }
}

/**
 * The path as the agent acts on it: checked against the protocol's pattern again (a frame that
 * skipped the server's checks is still refused), then normalized. Never follows anything.
 */
export function checkPath(p: string): string {
  if (!PATH.test(p) || !isAbsolute(p))
    throw new FilesError("INVALID_PATH", "paths are absolute, without `..` segments or control characters");
  return normalize(p);
}

/** True when `inner` is `root` or below it. */
export function within(root: string, inner: string): boolean {
  const rel = relative(root, inner);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/**
 * The path with its directory resolved by realpath (symlinks in the directories leading to it are
 * followed: the technician navigated through them) and its last component kept as it is, so the
 * operation acts on the entry itself, a symlink included, never on what it points to.
 */
export async function resolveEntry(p: string): Promise<string> {
  const path = checkPath(p);
  const parent = dirname(path);
  if (parent === path) return path; // the root itself
  let realParent: string;
  try {
    realParent = await realpath(parent);
  } catch (err) {
    throw fsError(err, parent);
  }
  return join(realParent, path.slice(parent.length).replace(/^[\\/]+/, ""));
}

/**
 * The path with every symlink followed, refused (`SYMLINK_ESCAPE`) when its last component is a
 * symlink leading out of the directory it sits in: reading, listing or changing through a link never
 * leaves the operation's directory by surprise (the listing shows the link's target, which can be
 * opened by its own path).
 */
export async function resolveFollowing(p: string): Promise<string> {
  const entry = await resolveEntry(p);
  const root = dirname(entry);
  let real: string;
  try {
    real = await realpath(entry);
  } catch (err) {
    throw fsError(err, p);
  }
  if (entry !== real && !within(await realpath(root), real))
    throw new FilesError("SYMLINK_ESCAPE", `${p} is a symlink leading out of ${root} (to ${real}); open the target by its own path`);
  return real;
}
