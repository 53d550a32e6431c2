/**
 * A fixed-window counter per key, bounded to `maxKeys` entries (the oldest window is dropped
 * first), so hostile input cannot grow it without limit.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** Counts one hit; returns false when the key is over its limit in the current window. */
  hit(key: string, now = Date.now()): boolean {
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      this.windows.delete(key);
      if (this.windows.size >= this.maxKeys) {
        const oldest = this.windows.keys().next().value;
        if (oldest !== undefined) this.windows.delete(oldest);
      }
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    return w.count <= this.limit;
  }

  /** True when the key has used up its current window (without counting a hit). */
  blocked(key: string, now = Date.now()): boolean {
    const w = this.windows.get(key);
    return Boolean(w && now - w.start < this.windowMs && w.count >= this.limit);
  }

  /** Forgets a key (e.g. after a successful login). */
  reset(key: string): void {
    this.windows.delete(key);
  }
}
