import { log } from "../log.ts";
import { Histogram } from "./histogram.ts";

/** How often the loop is probed, ms. */
const EVERY_MS = 20;
/** A delay this long is logged (a warning an operator can line up with what happened then), at most once per LOG_EVERY_MS. */
const LOG_OVER_MS = 250;
const LOG_EVERY_MS = 10_000;

/**
 * How late the event loop runs a timer due every 20 ms, in ms: the time an agent's frame or a request
 * waits before any of its code runs when something holds the loop (a large flush's answers, a
 * collection, a slow synchronous call). One histogram per process, as the loop is: servers started in
 * one process (tests) share it. Bun does not implement `monitorEventLoopDelay`, so prom-client's own
 * event-loop lag reads zero there; this measures it.
 */
export const loopDelay = new Histogram();

let watchers = 0;
let timer: ReturnType<typeof setInterval> | undefined;

/** Servers (and tests) watching now. */
export const loopWatchers = (): number => watchers;

/** Starts probing (once per process, however many servers ask); the function returned stops this one's share. */
export function watchLoopDelay(): () => void {
  if (watchers++ === 0) {
    let due = performance.now() + EVERY_MS;
    let loggedAt = Number.NEGATIVE_INFINITY;
    timer = setInterval(() => {
      const now = performance.now();
      const late = Math.max(0, now - due);
      loopDelay.record(late);
      due = now + EVERY_MS;
      if (late >= LOG_OVER_MS && now - loggedAt >= LOG_EVERY_MS) {
        loggedAt = now;
        log("warn", "event loop held", { ms: Math.round(late) });
      }
    }, EVERY_MS);
    timer.unref?.();
  }
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    if (--watchers === 0) clearInterval(timer);
  };
}
