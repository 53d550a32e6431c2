import type { CallResult } from "../../server/protocol/frames.ts";
import type { AclChange, FileOpResult, FilesRequest, FileStat } from "../../server/protocol/files.ts";
import { changeMode, changeOwner, copy, count, list, makeDir, move, properties, remove } from "./ops.ts";
import { FilesError, resolveFollowing } from "./paths.ts";
import { PipeReader, pipeMessage } from "./pipe.ts";
import { abortWrite, commitWrite, readChunk, writeChunk, writeStatus } from "./transfer.ts";

/**
 * The file worker: a child of the agent (the same binary, `__files-worker`) that does every file
 * operation of the explorer. Started as root, it first drops to the account named in
 * SENTPULSE_FILES_AS (`uid:gid`, no supplementary groups beyond the account's own) unless the
 * session is elevated, so the operating system itself refuses what that account may not do.
 * It reads requests on stdin and answers each on stdout (agent/files/pipe.ts: length-prefixed
 * messages, a chunk's bytes raw beside the JSON).
 */

/** The properties with the entry's ACL (loaded on the first ACL asked for); a failure to read it is told beside them. */
async function withAcl(st: FileStat): Promise<FileStat> {
  const { platformFileAcl } = await import("../platform/files-acl.ts");
  try {
    return { ...st, acl: await (await platformFileAcl()).read(st.path) };
  } catch (err) {
    return { ...st, acl: null, aclError: String((err as Error).message ?? err).slice(0, 1024) };
  }
}

/** An ACL change (Windows: icacls) on the entry the path leads to (a symlink out of its folder refused). */
async function changeAcl(path: string, change: AclChange): Promise<FileOpResult> {
  const { AclError, platformFileAcl } = await import("../platform/files-acl.ts");
  const p = await resolveFollowing(path);
  try {
    await (await platformFileAcl()).edit(p, change);
  } catch (err) {
    if (err instanceof AclError) throw new FilesError(err.code, err.message);
    throw err;
  }
  return { entries: 1 };
}

/** Runs one request (`bytes`: an upload chunk's); every failure becomes `{ ok: false, code, message }`. A read answers with the chunk's bytes beside. */
async function perform(req: FilesRequest, bytes: Uint8Array): Promise<{ result: CallResult; bytes?: Uint8Array }> {
  if (req.op === "read") {
    try {
      const r = await readChunk(req);
      return { result: { ok: true, data: r.chunk }, bytes: r.bytes };
    } catch (err) {
      return { result: failure(err) };
    }
  }
  return { result: await performOp(req, bytes) };
}

function failure(err: unknown): CallResult {
  if (err instanceof FilesError) return { ok: false, code: err.code, message: err.message.slice(0, 1024) };
  return { ok: false, code: "FILES_FAILED", message: String(err).slice(0, 1024) };
}

async function performOp(req: Exclude<FilesRequest, { op: "read" }>, bytes: Uint8Array): Promise<CallResult> {
  try {
    switch (req.op) {
      case "list":
        return { ok: true, data: await list(req.path, req.hidden) };
      case "stat":
        return { ok: true, data: req.acl ? await withAcl(await properties(req.path)) : await properties(req.path) };
      case "count":
        return { ok: true, data: await count(req.path) };
      case "mkdir":
        return { ok: true, data: await makeDir(req.path) };
      case "move":
        return { ok: true, data: await move(req.path, req.to, req.overwrite) };
      case "copy":
        return { ok: true, data: await copy(req.path, req.to, req.overwrite) };
      case "delete":
        return { ok: true, data: await remove(req.path, req.recursive) };
      case "chmod":
        return { ok: true, data: await changeMode(req.path, req.mode) };
      case "chown":
        return { ok: true, data: await changeOwner(req.path, req.owner, req.group) };
      case "acl":
        return { ok: true, data: await changeAcl(req.path, req.change) };
      case "write_status":
        return { ok: true, data: await writeStatus(req) };
      case "write":
        return { ok: true, data: await writeChunk(req, bytes) };
      case "write_commit":
        return { ok: true, data: await commitWrite(req) };
      case "write_abort":
        return { ok: true, data: await abortWrite(req) };
    }
  } catch (err) {
    return failure(err);
  }
}

/** Drops to `uid:gid` (from SENTPULSE_FILES_AS); without it the worker keeps the agent's account. */
function dropPrivileges(spec: string | undefined): void {
  if (!spec) return;
  const m = /^([0-9]+):([0-9]+)$/.exec(spec);
  if (!m || !process.setuid || !process.setgid || !process.setgroups) throw new Error(`cannot act as ${spec}`);
  const [uid, gid] = [Number(m[1]), Number(m[2])];
  process.setgroups([gid]);
  process.setgid(gid);
  process.setuid(uid);
  if (process.getuid?.() !== uid || process.geteuid?.() !== uid) throw new Error("could not drop privileges");
}

/** The worker's main loop; returns when stdin closes. */
export async function runWorker(): Promise<void> {
  dropPrivileges(process.env.SENTPULSE_FILES_AS);
  process.chdir("/");
  const out = Bun.stdout.writer();
  const reader = new PipeReader();
  for await (const chunk of Bun.stdin.stream()) {
    let messages: ReturnType<PipeReader["push"]>;
    try {
      messages = reader.push(chunk);
    } catch {
      // a malformed or oversized message (the agent never writes one): nothing more can be trusted
      process.exit(3);
    }
    for (const { message, payload } of messages) {
      const { id, req } = message as { id: number; req: FilesRequest };
      void perform(req, payload).then(({ result, bytes }) => {
        let message: Buffer;
        try {
          message = pipeMessage({ id, result }, bytes);
        } catch (err) {
          // over the pipe's bounds (never for what the worker answers): the request fails, the pipe stays in step
          message = pipeMessage({ id, result: { ok: false, code: "FILES_FAILED", message: String(err).slice(0, 300) } });
        }
        out.write(message);
        void out.flush();
      });
    }
  }
}
