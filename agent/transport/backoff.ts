/**
 * Exponential backoff with full jitter: attempt n waits a random time in [base, min(cap, base·2ⁿ)],
 * so thousands of agents cut off together do not come back together.
 */
export function backoffMs(attempt: number, baseMs = 1000, capMs = 60_000, random = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(baseMs + random() * (ceiling - baseMs));
}
