import type { FilesRequest, WindowsAce } from "../../server/protocol/files.ts";
import { AclError, runBounded } from "./files-acl.ts";
import { icaclsReadArgv, parseIcacls } from "./windows-files.ts";

/**
 * The unprivileged file session on Windows. The agent runs as SYSTEM and Bun cannot start a process
 * with another user's token (no CreateProcessAsUser / restricted tokens), so an unelevated request is
 * checked before it runs: who is signed in at the console (`query user`), and whether that user's
 * rights on each path the request touches (its ACL by icacls) allow what the request does. Refused
 * requests never reach the file worker; allowed ones run as SYSTEM. The check fails closed: allow
 * entries count only for the user's own account and the groups every console user holds, while every
 * deny entry counts unless it names an account that is never the console user.
 */

/** One line of `query user`. */
export interface QuserSession {
  username: string;
  sessionName: string | null;
  id: number;
  state: string;
  /** The session quser itself ran in (`>`). */
  current: boolean;
}

/** The sessions of `query user` output (header skipped; a session without a name has none). */
export function parseQuser(output: string): QuserSession[] {
  const out: QuserSession[] = [];
  for (const raw of output.replace(/\r\n?/g, "\n").split("\n").slice(1, 1000)) {
    const m = /^([ >])(\S+)\s+(?:(\S+)\s+)?(\d+)\s+(\S+)\s+/.exec(raw);
    if (!m) continue;
    out.push({ username: m[2] as string, sessionName: m[3] ?? null, id: Number(m[4]), state: m[5] as string, current: m[1] === ">" });
  }
  return out;
}

/** The user signed in at the physical console, if any. */
export function consoleUserOf(sessions: QuserSession[]): string | undefined {
  return sessions.find((s) => s.sessionName?.toLowerCase() === "console")?.username;
}

/** What a request needs: a capability on a path. */
export type Capability = "read" | "write" | "delete" | "change permissions";
export interface Need {
  capability: Capability;
  path: string;
}

/** The parent folder of a drive path (`C:\a\b` → `C:\a`, `C:\a` → `C:\`). */
export function parentOf(path: string): string {
  const p = path.replace(/[\\/]+$/, "");
  const i = Math.max(p.lastIndexOf("\\"), p.lastIndexOf("/"));
  return i <= 2 ? `${p.slice(0, 2)}\\` : p.slice(0, i);
}

/** What each file request needs of the console user's rights (the path itself or the folder an entry is made in). */
export function needsOf(req: FilesRequest): Need[] {
  switch (req.op) {
    case "list":
    case "stat":
    case "count":
    case "read":
      return [{ capability: "read", path: req.path }];
    case "mkdir":
      return [{ capability: "write", path: parentOf(req.path) }];
    case "move":
      return [
        { capability: "delete", path: req.path },
        { capability: "write", path: parentOf(req.to) },
      ];
    case "copy":
      return [
        { capability: "read", path: req.path },
        { capability: "write", path: parentOf(req.to) },
      ];
    case "delete":
      return [{ capability: "delete", path: req.path }];
    case "chmod":
    case "chown":
    case "acl":
      return [{ capability: "change permissions", path: req.path }];
    case "write_status":
    case "write":
    case "write_commit":
    case "write_abort":
      return [{ capability: "write", path: parentOf(req.path) }];
  }
}

/** The capabilities each right of icacls gives. */
const GIVES: Record<string, Capability[]> = {
  F: ["read", "write", "delete", "change permissions"],
  GA: ["read", "write", "delete", "change permissions"],
  M: ["read", "write", "delete"],
  RX: ["read"],
  R: ["read"],
  GR: ["read"],
  RD: ["read"],
  W: ["write"],
  GW: ["write"],
  WD: ["write"],
  AD: ["write"],
  D: ["delete"],
  DE: ["delete"],
  WDAC: ["change permissions"],
};

/** Groups every user signed in at the console holds (besides groups of their own, which are not looked up: fail closed). */
const CONSOLE_GROUPS = [
  "everyone",
  "builtin\\users",
  "nt authority\\authenticated users",
  "nt authority\\interactive",
  "console logon",
  "local",
];

/** Accounts and groups a console user never is (their deny entries cannot concern the user). Administrators: UAC filters it to deny-only, so its allow entries do not count either. */
function neverTheUser(identity: string): boolean {
  const id = identity.toLowerCase();
  return (
    id === "nt authority\\system" ||
    id === "creator owner" ||
    id === "creator group" ||
    id.startsWith("nt service\\") ||
    id.startsWith("application package authority\\") ||
    id === "nt authority\\local service" ||
    id === "nt authority\\network service"
  );
}

/** Whether an allow entry names the user or a group every console user holds. */
function isTheUser(identity: string, user: string): boolean {
  const id = identity.toLowerCase();
  const name = user.toLowerCase();
  return CONSOLE_GROUPS.includes(id) || id === name || id.endsWith(`\\${name}`);
}

/** The capabilities the entries give the console user on the item itself (inherit-only entries apply to children only). */
export function effectiveFor(aces: WindowsAce[], user: string): Set<Capability> {
  const allowed = new Set<Capability>();
  const denied = new Set<Capability>();
  for (const a of aces) {
    if (a.inheritance.includes("IO")) continue;
    const caps = a.rights.flatMap((r) => GIVES[r] ?? []);
    if (a.type === "deny") {
      if (!neverTheUser(a.identity)) for (const c of caps) denied.add(c);
    } else if (isTheUser(a.identity, user)) for (const c of caps) allowed.add(c);
  }
  for (const c of denied) allowed.delete(c);
  return allowed;
}

/** A grant is trusted this long before the ACL is read again (refusals are never remembered). */
const GRANT_TTL_MS = 30_000;
const MAX_GRANTS = 1000;

/** A refused check: the code and message the agent answers with. */
export interface Refusal {
  code: string;
  message: string;
}

/**
 * Checks an unelevated request against the console user's rights; undefined when it may go on (and
 * the user it was checked as), a refusal otherwise. `readAcl` and `whoIsAtConsole` are the system
 * commands (icacls, query user); tests give them recorded output.
 */
export async function checkAccess(
  req: FilesRequest,
  o: {
    whoIsAtConsole: () => Promise<string | undefined>;
    readAcl: (path: string) => Promise<WindowsAce[] | undefined>;
    /** Grants seen lately (user, capability, path → when): a transfer's chunks do not run icacls each. */
    granted?: Map<string, number>;
  },
): Promise<{ user: string } | Refusal> {
  const user = await o.whoIsAtConsole();
  if (!user)
    return {
      code: "ELEVATION_REQUIRED",
      message: "no one is signed in at the device's console to act as: elevate the session to act as SYSTEM",
    };
  for (const need of needsOf(req)) {
    const key = `${user}\n${need.capability}\n${need.path.toLowerCase()}`;
    const known = o.granted?.get(key);
    if (known !== undefined && Date.now() - known < GRANT_TTL_MS) continue;
    const aces = await o.readAcl(need.path);
    // a path that does not exist yet: its folder decides (the operation itself then says what is missing)
    if (!aces) continue;
    const allowed = effectiveFor(aces, user).has(need.capability);
    if (allowed && o.granted) {
      if (o.granted.size >= MAX_GRANTS) o.granted.clear();
      o.granted.set(key, Date.now());
    }
    if (!allowed)
      return {
        code: "PERMISSION_DENIED",
        message: `${user} (signed in at the console) may not ${need.capability === "read" ? "read" : need.capability} ${need.path}: elevate to act as SYSTEM`,
      };
  }
  return { user };
}

/** The console user by `query user` (exit 1 with "No User exists" when nobody is signed in). */
export async function whoIsAtConsole(): Promise<string | undefined> {
  try {
    return consoleUserOf(parseQuser(await runBounded(["query", "user"])));
  } catch {
    return undefined;
  }
}

/** A path's ACL entries by icacls; undefined when the path does not exist. */
export async function readAcl(path: string): Promise<WindowsAce[] | undefined> {
  try {
    return parseIcacls(await runBounded(icaclsReadArgv(path)), path);
  } catch (err) {
    if (err instanceof AclError && err.code === "NOT_FOUND") return undefined;
    throw err;
  }
}
