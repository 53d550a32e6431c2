/** Cumulative byte counters of one device (a network interface or a disk) since boot. */
export interface ByteCounters {
  name: string;
  inBytes: number;
  outBytes: number;
}

/** Per-device rates in bytes per second, rounded to whole bytes. */
export interface ByteRates {
  name: string;
  inBps: number;
  outBps: number;
}

/** Rate in bytes/s between two counter values; 0 with no previous value, no elapsed time, or a counter reset. */
export function counterRate(prev: number | undefined, cur: number, seconds: number): number {
  if (prev === undefined || seconds <= 0 || cur < prev) return 0;
  return Math.round((cur - prev) / seconds);
}

/** Rates of every device in `cur` against the previous reading; devices new since then report 0. */
export function ratesBetween(prev: ReadonlyMap<string, ByteCounters>, cur: readonly ByteCounters[], seconds: number): ByteRates[] {
  return cur.map((c) => {
    const p = prev.get(c.name);
    return {
      name: c.name,
      inBps: counterRate(p?.inBytes, c.inBytes, seconds),
      outBps: counterRate(p?.outBytes, c.outBytes, seconds),
    };
  });
}

/**
 * Keeps the previous reading per device so each call returns rates since the last call (0 on the
 * first). Devices that vanished are forgotten, so short-lived interfaces cannot grow the state.
 */
export function createRateTracker(): (cur: readonly ByteCounters[], nowMs: number) => ByteRates[] {
  let prev = new Map<string, ByteCounters>();
  let prevMs = 0;
  return (cur, nowMs) => {
    const rates = ratesBetween(prev, cur, prev.size === 0 ? 0 : (nowMs - prevMs) / 1000);
    prev = new Map(cur.map((c) => [c.name, c]));
    prevMs = nowMs;
    return rates;
  };
}

/** Sum of the rates of all devices, bytes/s each way. */
export function totalRates(rates: readonly ByteRates[]): { inBps: number; outBps: number } {
  let inBps = 0;
  let outBps = 0;
  for (const r of rates) {
    inBps += r.inBps;
    outBps += r.outBps;
  }
  return { inBps, outBps };
}
