import { clip } from "./facts-common.ts";
import type { PowerOptions } from "./types.ts";

/**
 * shutdown(8) argv for Linux and macOS. Its delay has minute granularity, so seconds are rounded
 * up to whole minutes ("now" for 0); the message is broadcast to logged-in users.
 */
export function unixShutdownArgs(flag: string, o: PowerOptions): string[] {
  const when = o.delaySeconds > 0 ? `+${Math.ceil(o.delaySeconds / 60)}` : "now";
  return o.message ? ["shutdown", flag, when, o.message] : ["shutdown", flag, when];
}

/** shutdown.exe accepts at most 10 years of delay (seconds) and a 512-character comment. */
const WINDOWS_MAX_DELAY_S = 315_360_000;

/**
 * shutdown.exe argv: /r or /s after /t seconds, forcing apps closed (/f, implied anyway for a
 * delay above 0), with the comment shown to signed-in users.
 */
export function windowsShutdownArgs(flag: "/r" | "/s", o: PowerOptions): string[] {
  const delay = String(Math.min(WINDOWS_MAX_DELAY_S, Math.max(0, Math.round(o.delaySeconds))));
  const args = ["shutdown.exe", flag, "/f", "/t", delay];
  return o.message ? [...args, "/c", clip(o.message, 512)] : args;
}
