import type { AclChange, FileAcl } from "../../server/protocol/files.ts";

/**
 * Access control lists of the file explorer, one interface over the operating systems: Windows reads
 * with icacls (and the owner with Get-Acl) and edits with icacls; Linux reads POSIX ACLs with getfacl
 * where it is installed (Debian: the `acl` package); macOS shows mode and owner only. Each
 * implementation is imported on first use, by the file worker (so as the session's account).
 */
export interface PlatformFileAcl {
  /** The entry's ACL; null where there is none to show. */
  read(path: string): Promise<FileAcl | null>;
  /** An ACL change (Windows only; elsewhere `ACL_UNSUPPORTED`). */
  edit(path: string, change: AclChange): Promise<void>;
}

/** A refusal or failure with a code, as the worker answers it. */
export class AclError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Bytes of a command's output read, at most (an ACL of 500 entries stays far below). */
const MAX_OUTPUT = 1_048_576;

/** Runs argv (no shell) with a deadline and bounded output; stdout, or an AclError with the command's stderr. */
export async function runBounded(argv: string[], env?: Record<string, string>, timeoutMs = 15_000): Promise<string> {
  let proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  try {
    proc = Bun.spawn(argv, {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      timeout: timeoutMs,
      windowsHide: true,
      env: env ? { ...process.env, ...env } : undefined,
    });
  } catch (e) {
    throw new AclError("ACL_UNAVAILABLE", `${argv[0]} could not start: ${(e as Error).message}`);
  }
  const read = async (s: ReadableStream<Uint8Array>) => {
    const chunks: Uint8Array[] = [];
    let n = 0;
    for await (const c of s) {
      if (n >= MAX_OUTPUT) continue; // drained, not kept
      chunks.push(c.subarray(0, MAX_OUTPUT - n));
      n += Math.min(c.length, MAX_OUTPUT - n);
    }
    return Buffer.concat(chunks).toString("utf8");
  };
  const [stdout, stderr, code] = await Promise.all([read(proc.stdout), read(proc.stderr), proc.exited]);
  if (code !== 0) {
    const msg = (stderr.trim() || stdout.trim()).slice(0, 500);
    if (/access is denied|permission denied/i.test(msg)) throw new AclError("PERMISSION_DENIED", msg);
    if (/cannot find|no such file/i.test(msg)) throw new AclError("NOT_FOUND", msg);
    throw new AclError("ACL_FAILED", `${argv[0]} exited with ${code}: ${msg}`);
  }
  return stdout;
}

/** This operating system's ACL support. */
export async function platformFileAcl(os: NodeJS.Platform = process.platform): Promise<PlatformFileAcl> {
  if (os === "win32") return (await import("./windows-files.ts")).windowsFileAcl;
  if (os === "linux") return (await import("./linux-files.ts")).linuxFileAcl;
  return {
    read: async () => null,
    edit: async () => {
      throw new AclError("ACL_UNSUPPORTED", "ACL changes are made on Windows; use chmod/chown here");
    },
  };
}
