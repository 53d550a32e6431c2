/** A command that exited non-zero, was killed, or could not start. */
export class CommandError extends Error {
  readonly code = "command_failed";
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    stderr: string,
  ) {
    super(`${argv[0]} exited with ${exitCode ?? "a signal"}: ${stderr.trim().slice(0, 300)}`);
  }
}

/**
 * Runs argv (no shell) and resolves with its stdout; rejects with CommandError unless it exits with one
 * of `okCodes` (0 by default; dnf check-update says "updates wait" with 100) within timeoutMs.
 */
export async function runCommand(argv: readonly string[], timeoutMs = 15_000, okCodes: readonly number[] = [0]): Promise<string> {
  let proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  try {
    proc = Bun.spawn([...argv], { stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: timeoutMs, windowsHide: true });
  } catch (e) {
    throw new CommandError(argv, null, (e as Error).message);
  }
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (!okCodes.includes(exitCode) || proc.signalCode !== null) throw new CommandError(argv, proc.signalCode ? null : exitCode, stderr);
  return stdout;
}
