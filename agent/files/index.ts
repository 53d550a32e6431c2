import { statSync } from "node:fs";
import type { CallResult } from "../../server/protocol/frames.ts";
import type { FilesRequest } from "../../server/protocol/files.ts";
import { account } from "./accounts.ts";
import { WorkerClient } from "./client.ts";

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

/** Runs one file request in the worker of its privilege. */
export async function handleFiles(req: FilesRequest): Promise<CallResult> {
  if (process.platform === "win32" && !req.elevated)
    return { ok: false, code: "ELEVATION_REQUIRED", message: "on Windows the agent acts only as SYSTEM: elevate the session" };
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
  return w.call(req);
}
