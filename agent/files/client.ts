import type { Subprocess } from "bun";
import type { CallResult } from "../../server/protocol/frames.ts";
import type { FilesRequest } from "../../server/protocol/files.ts";
import { agentLog } from "../log.ts";
import { PipeReader, pipeMessage } from "./pipe.ts";

/** Requests in flight to one worker, at most. */
const MAX_PENDING = 64;
/** A worker nobody asked anything of for this long exits (the next request starts another). */
const IDLE_MS = 120_000;

/** A worker's answer: the result, and a download chunk's bytes beside it. */
export type WorkerAnswer = CallResult & { payload?: Uint8Array };

/** The command line that starts this agent again as a file worker (the compiled binary, or bun and the entry file). */
function workerArgv(): string[] {
  const compiled = Bun.main.startsWith("/$bunfs/") || /^[A-Za-z]:[\\/]~BUN[\\/]/.test(Bun.main);
  return compiled ? [process.execPath, "__files-worker"] : [process.execPath, Bun.main, "__files-worker"];
}

/**
 * One file worker process (agent/files/worker.ts) and the requests in flight to it: started on the
 * first request, answers matched by id, stopped after two idle minutes. `as` is `uid:gid` to drop
 * to, or undefined to keep the agent's own account (an elevated session).
 */
export class WorkerClient {
  private proc: Subprocess<"pipe", "pipe", "inherit"> | undefined;
  private readonly pending = new Map<number, (r: WorkerAnswer) => void>();
  private nextId = 1;
  private idle: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly as: string | undefined) {}

  /** Runs `req` in the worker; `payload`: an upload chunk's bytes (crossing the pipe raw). */
  call(req: FilesRequest, payload?: Uint8Array): Promise<WorkerAnswer> {
    if (this.pending.size >= MAX_PENDING) return Promise.resolve({ ok: false, code: "TOO_MANY_CALLS" });
    const proc = this.start();
    const id = this.nextId++;
    clearTimeout(this.idle);
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      proc.stdin.write(pipeMessage({ id, req }, payload));
      void proc.stdin.flush();
    });
  }

  private start(): Subprocess<"pipe", "pipe", "inherit"> {
    if (this.proc) return this.proc;
    const env: Record<string, string | undefined> = { ...process.env, SENTPULSE_FILES_AS: this.as };
    if (!this.as) delete env.SENTPULSE_FILES_AS;
    const proc = Bun.spawn(workerArgv(), { stdin: "pipe", stdout: "pipe", stderr: "inherit", env, cwd: "/" });
    this.proc = proc;
    void this.read(proc);
    void proc.exited.then((code) => {
      if (this.proc === proc) this.proc = undefined;
      if (code !== 0 && code !== null) agentLog("warn", "file worker exited", { code, as: this.as ?? "agent" });
      for (const resolve of this.pending.values())
        resolve({ ok: false, code: "WORKER_EXITED", message: `the file worker exited (${code})` });
      this.pending.clear();
    });
    return proc;
  }

  private async read(proc: Subprocess<"pipe", "pipe", "inherit">): Promise<void> {
    const reader = new PipeReader();
    for await (const chunk of proc.stdout) {
      let answers: ReturnType<PipeReader["push"]>;
      try {
        answers = reader.push(chunk);
      } catch (err) {
        // the pipe is out of step: the worker goes (its requests fail with WORKER_EXITED; the next starts another)
        agentLog("warn", "file worker wrote a bad answer", { error: String(err).slice(0, 200) });
        proc.kill();
        return;
      }
      for (const { message, payload } of answers) {
        const { id, result } = message as { id: number; result: CallResult };
        this.pending.get(id)?.(payload.length > 0 ? { ...result, payload } : result);
        this.pending.delete(id);
      }
      if (this.pending.size === 0) this.armIdle(proc);
    }
  }

  private armIdle(proc: Subprocess): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      if (this.pending.size === 0 && this.proc === proc) proc.kill();
    }, IDLE_MS);
    this.idle.unref?.();
  }

  /** Ends the worker (agent shutdown). */
  stop(): void {
    clearTimeout(this.idle);
    this.proc?.kill();
  }
}
