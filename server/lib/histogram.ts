/**
 * A fixed-size latency histogram (ms) with log-spaced buckets from 0.1 ms to ~100 s: constant
 * memory whatever the traffic, percentiles accurate to one bucket (about 12 %).
 */
export class Histogram {
  private static readonly BOUNDS = Array.from({ length: 120 }, (_, i) => 0.1 * 1.12 ** i);
  private readonly counts = new Array<number>(Histogram.BOUNDS.length + 1).fill(0);
  count = 0;
  sum = 0;
  max = 0;

  record(ms: number): void {
    if (ms > this.max) this.max = ms;
    const bounds = Histogram.BOUNDS;
    let lo = 0;
    let hi = bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((bounds[mid] ?? 0) < ms) lo = mid + 1;
      else hi = mid;
    }
    this.counts[lo] = (this.counts[lo] ?? 0) + 1;
    this.count++;
    this.sum += ms;
  }

  /** The upper bound of the bucket holding the p-th percentile (0–100), in ms. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const target = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= target) return Histogram.BOUNDS[i] ?? Number.POSITIVE_INFINITY;
    }
    return Number.POSITIVE_INFINITY;
  }

  summary(): { count: number; meanMs: number; p50Ms: number; p99Ms: number; maxMs: number } {
    const r = (x: number) => Math.round(x * 100) / 100;
    return {
      count: this.count,
      meanMs: r(this.count ? this.sum / this.count : 0),
      p50Ms: r(this.percentile(50)),
      p99Ms: r(this.percentile(99)),
      maxMs: r(this.max),
    };
  }

  /**
   * Cumulative counts at every `step`-th bucket bound (upper bounds in ms, ascending), for
   * exporters such as Prometheus; samples above the last bound are only in `count`.
   */
  cumulative(step: number): { boundMs: number; count: number }[] {
    const out: { boundMs: number; count: number }[] = [];
    let seen = 0;
    for (let i = 0; i < Histogram.BOUNDS.length; i++) {
      seen += this.counts[i] ?? 0;
      if (i % step === 0) out.push({ boundMs: Histogram.BOUNDS[i] ?? 0, count: seen });
    }
    return out;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.max = 0;
  }
}
