import type { FileEntry } from "../../../server/protocol/files.ts";

/** Path helpers of the explorer: the device's own separator (`\` on Windows drives, else `/`). */
export function separatorOf(path: string): string {
  return /^[A-Za-z]:\\/.test(path) ? "\\" : "/";
}

export function joinPath(dir: string, name: string): string {
  const sep = separatorOf(dir);
  return dir.endsWith(sep) ? `${dir}${name}` : `${dir}${sep}${name}`;
}

export function parentOf(path: string): string {
  const sep = separatorOf(path);
  const trimmed = path.length > 1 && path.endsWith(sep) ? path.slice(0, -1) : path;
  const i = trimmed.lastIndexOf(sep);
  if (i <= 0) return sep === "/" ? "/" : trimmed.slice(0, 3);
  if (sep === "\\" && i === 2) return trimmed.slice(0, 3);
  return trimmed.slice(0, i);
}

/** The breadcrumbs of a path: each ancestor with its label, the root first. */
export function crumbs(path: string): { label: string; path: string }[] {
  const sep = separatorOf(path);
  const root = sep === "/" ? "/" : path.slice(0, 3);
  const parts = path.slice(root.length).split(sep).filter(Boolean);
  const out = [{ label: root, path: root }];
  let at = root;
  for (const p of parts) {
    at = joinPath(at, p);
    out.push({ label: p, path: at });
  }
  return out;
}

/** `drwxr-xr-x` from an entry's type and mode bits. */
export function modeString(e: Pick<FileEntry, "type" | "mode">): string {
  const kind = e.type === "dir" ? "d" : e.type === "link" ? "l" : e.type === "other" ? "?" : "-";
  const bits = "rwxrwxrwx"
    .split("")
    .map((c, i) => (e.mode & (1 << (8 - i)) ? c : "-"))
    .join("");
  return kind + bits;
}

export type SortKey = "name" | "size" | "mtime";

/** Directories first, then by the chosen key. */
export function sortEntries(items: FileEntry[], key: SortKey, desc: boolean): FileEntry[] {
  const dirFirst = (e: FileEntry) => (e.type === "dir" || (e.type === "link" && e.targetType === "dir") ? 0 : 1);
  const cmp = (a: FileEntry, b: FileEntry) => {
    const d = dirFirst(a) - dirFirst(b);
    if (d !== 0) return d;
    const v = key === "name" ? a.name.localeCompare(b.name) : key === "size" ? a.size - b.size : a.mtime - b.mtime;
    return desc ? -v : v;
  };
  return [...items].sort(cmp);
}
