import { Histogram } from "./histogram.ts";

/** How often the loop is probed, ms. */
const EVERY_MS = 20;

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
    timer = setInterval(() => {
      const now = performance.now();
      loopDelay.record(Math.max(0, now - due));
      due = now + EVERY_MS;
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
