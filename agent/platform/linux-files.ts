import type { FileAcl, PosixAce } from "../../server/protocol/files.ts";
import { MAX_ACL_ENTRIES } from "../../server/protocol/files-limits.ts";
import { AclError, type PlatformFileAcl, runBounded } from "./files-acl.ts";

/**
 * POSIX ACLs on Linux, read with getfacl (Debian's `acl` package) where it is installed: the named
 * users and groups, the mask with what it leaves of each entry, and a directory's default entries.
 * Mode and owner stay the properties' own (chmod/chown); changes of POSIX ACLs are not offered.
 */

const PERMS = /^[r-][w-][x-]$/;

/** The entries of `getfacl --absolute-names -- <path>` output (comment lines skipped). */
export function parseGetfacl(output: string): PosixAce[] {
  const out: PosixAce[] = [];
  for (const raw of output.split("\n").slice(0, 10_000)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const [entry, comment] = line.split(/\s+#/);
    const parts = (entry as string).split(":");
    const isDefault = parts[0] === "default";
    if (isDefault) parts.shift();
    const [tag, qualifier, perms] = parts;
    if (!tag || !["user", "group", "mask", "other"].includes(tag) || !perms || !PERMS.test(perms) || parts.length !== 3) continue;
    const eff = /effective:([r-][w-][x-])/.exec(comment ?? "")?.[1] ?? null;
    out.push({ tag: tag as PosixAce["tag"], qualifier: qualifier || null, perms, effective: eff, default: isDefault });
    if (out.length >= MAX_ACL_ENTRIES) break;
  }
  return out;
}

export function getfaclArgv(path: string): string[] {
  if (!path.startsWith("/")) throw new AclError("INVALID_PATH", "paths are absolute");
  return ["getfacl", "--absolute-names", "--", path];
}

export const linuxFileAcl: PlatformFileAcl = {
  async read(path: string): Promise<FileAcl | null> {
    if (!Bun.which("getfacl")) return null;
    return { kind: "posix", owner: null, windows: [], posix: parseGetfacl(await runBounded(getfaclArgv(path))) };
  },
  async edit(): Promise<void> {
    throw new AclError("ACL_UNSUPPORTED", "ACL changes are made on Windows; use chmod/chown here");
  },
};
