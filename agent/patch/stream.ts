import type { Emit, InstallOutcome } from "./types.ts";

/**
 * Runs an argument vector (never a shell) with extra environment, sending its output as it comes and
 * killing it after `timeoutMs`. Output is not kept here: the executor sends it in chunks and the
 * server stores a bounded copy.
 */
export async function runStreaming(argv: string[], env: Record<string, string>, emit: Emit, timeoutMs: number): Promise<InstallOutcome> {
  let proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  try {
    proc = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env }, windowsHide: true });
  } catch (err) {
    return { ok: false, exitCode: null, error: `${argv[0]} could not start: ${(err as Error).message}`.slice(0, 1000) };
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, timeoutMs);
  const pump = async (s: ReadableStream<Uint8Array>, stream: "stdout" | "stderr") => {
    const dec = new TextDecoder();
    for await (const chunk of s) emit(stream, dec.decode(chunk, { stream: true }));
  };
  await Promise.all([pump(proc.stdout, "stdout"), pump(proc.stderr, "stderr")]);
  const code = await proc.exited;
  clearTimeout(timer);
  if (timedOut) return { ok: false, exitCode: null, error: `${argv[0]} was killed after ${Math.round(timeoutMs / 1000)} s` };
  return code === 0 ? { ok: true, exitCode: 0 } : { ok: false, exitCode: code, error: `${argv[0]} exited with ${code}` };
}
