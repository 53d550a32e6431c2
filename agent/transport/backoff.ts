/**
 * Exponential backoff with full jitter: attempt n waits a random time in [base, min(cap, base·2ⁿ⁺¹)],
 * so thousands of agents cut off together do not come back together (attempt 0 is jittered too).
 * `spreadS`, the reconnect window the server named, widens the early attempts to it: after a server
 * restart the agents whose first try found it not back yet would otherwise all retry within a few
 * seconds and land together the moment it is up; spread over the window they arrive at the rate it
 * was sized for (seconds, bounded by MAX_RECONNECT_WINDOW_S).
 */
export function backoffMs(attempt: number, baseMs = 1000, capMs = 60_000, random = Math.random, spreadS = 0): number {
  const spreadMs = Math.min(MAX_RECONNECT_WINDOW_S, Math.max(0, Number.isFinite(spreadS) ? spreadS : 0)) * 1000;
  const ceiling = Math.max(Math.min(capMs, baseMs * 2 ** Math.min(attempt + 1, 20)), spreadMs);
  return Math.round(baseMs + random() * (ceiling - baseMs));
}

/** Longest reconnect window an agent accepts from a server, seconds (a bad value cannot park it for long). */
export const MAX_RECONNECT_WINDOW_S = 600;

/**
 * The first reconnect after a socket that was up is lost: a uniform random time in
 * [base, max(base, window)], where the window (seconds) is what the server named for its fleet size,
 * so a whole fleet cut off at once (a server restart) comes back spread over it rather than in one
 * burst. Later failed attempts use `backoffMs`.
 */
export function reconnectDelayMs(windowS: number, baseMs = 1000, random = Math.random): number {
  const windowMs = Math.min(MAX_RECONNECT_WINDOW_S, Math.max(0, Number.isFinite(windowS) ? windowS : 0)) * 1000;
  return Math.round(baseMs + random() * Math.max(0, windowMs - baseMs));
}

/**
 * How long a refused handshake holds an agent back, ms: the server answers 503 when it is at its
 * open-file limit (`SERVER_FULL`) or holds the device back (`RETRY_LATER`), with `Retry-After: 60`. The
 * WebSocket client sees only the status, in the error's message ("Expected 101 status code: 503"), so
 * the agent waits 30–60 s, jittered, instead of its short backoff; any other failure: 0.
 */
export function refusalHoldMs(errorMessage: string, random = Math.random): number {
  const status = /status code: (\d{3})/.exec(errorMessage)?.[1];
  return status === "503" ? Math.round((30 + random() * 30) * 1000) : 0;
}
