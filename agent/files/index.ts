import { statSync } from "node:fs";
import type { FilesRequest } from "../../server/protocol/files.ts";
import { account } from "./accounts.ts";
import { type WorkerAnswer, WorkerClient } from "./client.ts";

/**
 * The file explorer's call handler, loaded on the first `files` call (agent/main.ts imports it
 * dynamically). Every operation runs in a worker process: by default one that dropped to an
 * unprivileged account (the console user where one is signed in, else `nobody`), and only for an
 * elevated session (its own permission and a reason, checked and audited by the server) one that
 * keeps the agent's account (root).
 */

const workers = new Map<string, WorkerClient>();

/** The account of the user signed in at the console (Linux: `who`, a local display or tty; macOS: the owner of /dev/console). */
function consoleUser(): string | undefined {
  try {
    if (process.platform === "darwin") {
      const uid = statSync("/dev/console").uid;
      return uid > 0 ? String(uid) : undefined;
    }
    const who = Bun.spawnSync(["who"], { stdout: "pipe", stderr: "ignore", timeout: 2000 });
    for (const line of who.stdout.toString().split("\n").slice(0, 200)) {
      const [user, tty] = line.trim().split(/\s+/);
      if (user && user !== "root" && tty && /^(?::[0-9]+|tty[0-9]+|seat[0-9]+|console)$/.test(tty)) return user;
    }
  } catch {}
  return undefined;
}

let chosen: { at: number; as: string } | undefined;

/** `uid:gid` of the unprivileged account (looked up again after a minute), or undefined when the agent itself is not root (nothing to drop). */
function unprivileged(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  if (!chosen || Date.now() - chosen.at > 60_000) chosen = { at: Date.now(), as: pickAccount() };
  return chosen.as;
}

function pickAccount(): string {
  const name = consoleUser();
  if (name && /^[0-9]+$/.test(name)) return `${name}:${statSync("/dev/console").gid}`;
  const a = (name ? account(name) : undefined) ?? account("nobody") ?? { uid: 65534, gid: 65534 };
  return `${a.uid}:${a.gid}`;
}

/**
 * Runs one file request in the worker of its privilege. An upload chunk's bytes come raw (`payload`,
 * from a binary message) or in base64 (`data`, from servers before binary chunks); a download
 * chunk's bytes go back raw beside the result (`payload`): the socket sends them as the server takes them.
 */
export async function handleFiles(req: FilesRequest, payload?: Uint8Array): Promise<WorkerAnswer> {
  let bytes: Uint8Array | undefined;
  if (req.op === "write") {
    if ((payload === undefined) === (req.data === undefined))
      return { ok: false, code: "INVALID_REQUEST", message: "a write carries its bytes either raw or in base64, once" };
    bytes = payload ?? Buffer.from(req.data ?? "", "base64");
    const { data: _, ...rest } = req;
    req = rest;
  }
  if (process.platform === "win32" && !req.elevated) return windowsUnprivileged(req, bytes);
  const rootAgent = process.getuid?.() === 0;
  if (req.elevated && !rootAgent && process.platform !== "win32")
    return { ok: false, code: "ELEVATION_UNAVAILABLE", message: "the agent does not run as root on this device" };
  const as = req.elevated ? undefined : unprivileged();
  const key = as ?? "agent";
  let w = workers.get(key);
  if (!w) {
    w = new WorkerClient(as);
    workers.set(key, w);
  }
  return w.call(req, bytes);
}

let consoleCache: { at: number; user: string | undefined } | undefined;
/** Recent grants of the Windows access check (a download's chunks are not each checked with icacls). */
const granted = new Map<string, number>();

/**
 * Windows without elevation: the agent is SYSTEM and cannot start the worker with the console user's
 * token, so the request is first checked against that user's rights on the paths it touches
 * (agent/platform/windows-files-access.ts; the reasoning is in docs/security.md), then run by the
 * SYSTEM worker; what the user may not do is refused before anything is touched.
 */
async function windowsUnprivileged(req: FilesRequest, bytes: Uint8Array | undefined): Promise<WorkerAnswer> {
  const access = await import("../platform/windows-files-access.ts");
  let checked: Awaited<ReturnType<typeof access.checkAccess>>;
  try {
    checked = await access.checkAccess(req, {
      whoIsAtConsole: async () => {
        if (!consoleCache || Date.now() - consoleCache.at > 60_000) consoleCache = { at: Date.now(), user: await access.whoIsAtConsole() };
        return consoleCache.user;
      },
      readAcl: access.readAcl,
      granted,
    });
  } catch (err) {
    return {
      ok: false,
      code: "ACCESS_CHECK_FAILED",
      message: `the console user's rights could not be checked: ${String(err).slice(0, 300)}`,
    };
  }
  if ("code" in checked) return { ok: false, code: checked.code, message: checked.message };
  let w = workers.get("agent");
  if (!w) {
    w = new WorkerClient(undefined);
    workers.set("agent", w);
  }
  const r = await w.call(req, bytes);
  // the session shows whose rights were checked
  if (r.ok && r.data && typeof r.data === "object" && "runAs" in r.data)
    return { ok: true, data: { ...(r.data as object), runAs: `${checked.user} (checked; acting as SYSTEM)`.slice(0, 256) } };
  return r;
}
