import type { AclChange, FileAcl, WindowsAce } from "../../server/protocol/files.ts";
import { ACL_IDENTITY_PATTERN, ACL_INHERITANCE, ACL_RIGHTS_PATTERN, MAX_ACL_ENTRIES } from "../../server/protocol/files-limits.ts";
import { AclError, type PlatformFileAcl, runBounded } from "./files-acl.ts";
import { powershellArgv } from "./windows-query.ts";

/**
 * Windows file ACLs: read with `icacls <path>` (parsed into entries) and the owner with
 * `(Get-Acl -LiteralPath $env:SP_PATH).Owner` (the path in the environment, never in the script);
 * changed with `icacls <path> /grant|/deny <identity>:<flags>(<rights>)` or `/remove <identity>`,
 * always as an argument vector with the identity and rights checked against strict patterns.
 */

const IDENTITY = new RegExp(ACL_IDENTITY_PATTERN);
const RIGHTS = new RegExp(ACL_RIGHTS_PATTERN);
/** A drive path (`C:\…`): icacls is never handed anything it could read as a switch. */
const DRIVE_PATH = /^[A-Za-z]:[\\/]/;

const SIMPLE: Record<string, string> = {
  F: "Full control",
  M: "Modify",
  RX: "Read & execute",
  R: "Read",
  W: "Write",
  D: "Delete",
  N: "No access",
};
const SPECIFIC: Record<string, string> = {
  DE: "Delete",
  RC: "Read permissions",
  WDAC: "Change permissions",
  WO: "Take ownership",
  S: "Synchronize",
  AS: "Access system security",
  MA: "Maximum allowed",
  GR: "Generic read",
  GW: "Generic write",
  GE: "Generic execute",
  GA: "Generic all",
  RD: "Read data / list folder",
  WD: "Write data / add file",
  AD: "Append data / add subfolder",
  REA: "Read extended attributes",
  WEA: "Write extended attributes",
  X: "Execute / traverse",
  DC: "Delete child",
  RA: "Read attributes",
  WA: "Write attributes",
};
const FLAGS = new Set<string>(ACL_INHERITANCE);

/** The rights of one entry in words. */
export function rightsSummary(rights: string[]): string {
  return rights.map((r) => SIMPLE[r] ?? SPECIFIC[r] ?? r).join(", ");
}

/** One `IDENTITY:(flag)…(rights)` line; undefined when the line is not one. */
function parseAce(text: string): WindowsAce | undefined {
  const m = /^(.+):((?:\([A-Z]+(?:,[A-Z]+)*\))+)$/.exec(text.trim());
  if (!m) return undefined;
  const groups = [...(m[2] as string).matchAll(/\(([A-Z,]+)\)/g)].map((g) => g[1] as string);
  const ace: WindowsAce = {
    identity: (m[1] as string).slice(0, 512),
    type: "allow",
    rights: [],
    summary: "",
    inherited: false,
    inheritance: [],
  };
  for (const g of groups) {
    if (g === "I") ace.inherited = true;
    else if (g === "DENY") ace.type = "deny";
    else if (FLAGS.has(g)) ace.inheritance.push(g as WindowsAce["inheritance"][number]);
    else ace.rights.push(...g.split(","));
  }
  ace.rights = ace.rights.slice(0, 32);
  ace.summary = rightsSummary(ace.rights).slice(0, 512);
  return ace;
}

/**
 * The entries of `icacls <path>` output: the first line starts with the path as given, the next
 * ones are indented under it; a blank line and the "Successfully processed …" summary end it.
 */
export function parseIcacls(output: string, path: string): WindowsAce[] {
  const lines = output.replace(/\r\n?/g, "\n").split("\n");
  const out: WindowsAce[] = [];
  for (let i = 0; i < lines.length && out.length < MAX_ACL_ENTRIES; i++) {
    let line = lines[i] as string;
    if (i === 0) {
      if (!line.toLowerCase().startsWith(path.toLowerCase()))
        throw new AclError("UNEXPECTED_OUTPUT", "icacls did not list the path asked for");
      line = line.slice(path.length);
    }
    if (line.trim() === "") {
      if (out.length > 0) break;
      continue;
    }
    if (/^(Successfully processed|Failed processing)/i.test(line.trim())) break;
    const ace = parseAce(line);
    if (!ace) throw new AclError("UNEXPECTED_OUTPUT", `icacls printed a line that is not an entry: ${line.trim().slice(0, 200)}`);
    out.push(ace);
  }
  return out;
}

/** The argv that lists a path's ACL. */
export function icaclsReadArgv(path: string): string[] {
  if (!DRIVE_PATH.test(path)) throw new AclError("INVALID_PATH", "ACLs are read on drive paths (C:\\…)");
  return ["icacls", path];
}

/** The argv of an ACL change; identity, rights and flags checked against their patterns first. */
export function icaclsEditArgv(path: string, change: AclChange): string[] {
  if (!DRIVE_PATH.test(path)) throw new AclError("INVALID_PATH", "ACLs are changed on drive paths (C:\\…)");
  if (!IDENTITY.test(change.identity)) throw new AclError("INVALID_IDENTITY", "an account is NAME, DOMAIN\\NAME or *S-1-…");
  if (change.action === "remove") return ["icacls", path, "/remove", change.identity];
  if (!RIGHTS.test(change.rights)) throw new AclError("INVALID_RIGHTS", "rights are F, M, RX, R, W, D or a comma list of specific rights");
  const flags = [...new Set(change.inheritance ?? [])];
  if (flags.some((f) => !FLAGS.has(f))) throw new AclError("INVALID_RIGHTS", "inheritance flags are OI, CI, IO and NP");
  const perm = `${flags.map((f) => `(${f})`).join("")}(${change.rights})`;
  return ["icacls", path, change.action === "grant" ? "/grant" : "/deny", `${change.identity}:${perm}`];
}

/** The PowerShell that prints the owner of the path in SP_PATH. */
export const OWNER_SCRIPT = "(Get-Acl -LiteralPath $env:SP_PATH).Owner";

export const windowsFileAcl: PlatformFileAcl = {
  async read(path: string): Promise<FileAcl> {
    const [listing, owner] = await Promise.all([
      runBounded(icaclsReadArgv(path)),
      runBounded(powershellArgv(OWNER_SCRIPT), { SP_PATH: path }).catch(() => ""),
    ]);
    return { kind: "windows", owner: owner.trim().slice(0, 512) || null, windows: parseIcacls(listing, path), posix: [] };
  },
  async edit(path: string, change: AclChange): Promise<void> {
    await runBounded(icaclsEditArgv(path, change));
  },
};
