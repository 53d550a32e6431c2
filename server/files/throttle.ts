/**
 * Bandwidth of file transfers over an agent's socket: token buckets (one per transfer, one per
 * device, both must allow a chunk) and a governor that backs off when the agent's round trips grow,
 * so a transfer never starves the pulse or a terminal on the same socket.
 */

/** Bytes/s a governor starts at and never goes below (a transfer always moves). */
const FLOOR_BPS = 32 * 1024;
/** The part of a second one chunk may occupy the link: the delay a telemetry frame may wait behind it. */
const CHUNK_SECONDS = 0.25;
export const MIN_CHUNK = 16 * 1024;

/**
 * A token bucket without burst, in "debt" form: bytes may go once the bytes before them are paid for
 * at the rate; taking n bytes moves the next free moment n/rate later. Over any window the bytes sent
 * are at most rate × window plus one chunk.
 */
export class TokenBucket {
  private freeAt = 0;

  constructor(
    public rateBps: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Ms to wait before `bytes` may go (0: now); they are counted as sent from then. */
  take(bytes: number): number {
    if (this.rateBps <= 0 || !Number.isFinite(this.rateBps)) return 0;
    const now = this.now();
    const start = Math.max(this.freeAt, now);
    this.freeAt = start + (bytes / this.rateBps) * 1000;
    return start - now;
  }
}

/**
 * Adapts the rate to the round trips of chunk calls (additive increase, multiplicative decrease):
 * each call's time per byte is compared with the best seen; one much slower that also moved its bytes
 * at less than twice the rate means a queue is building on the path (the agent's uplink is full at
 * about this rate), so the rate drops by 30 %; otherwise it grows by an eighth, up to the cap. A slow
 * call that still moved its bytes far faster than the rate was held up elsewhere (a busy CPU on either
 * side, a pause): cutting the rate would not shorten the pulse's wait behind a chunk.
 */
export class RttGovernor {
  private bestMsPerKiB = Number.POSITIVE_INFINITY;
  private rate: number;

  constructor(private capBps: number) {
    this.rate = capBps > 0 ? capBps : Number.POSITIVE_INFINITY;
  }

  /** A new cap (the site's default changed while the transfer runs): the rate follows at once when it is lower. */
  setCap(capBps: number): void {
    if (capBps === this.capBps) return;
    this.capBps = capBps;
    this.rate = capBps > 0 ? Math.min(Number.isFinite(this.rate) ? this.rate : capBps, capBps) : Number.POSITIVE_INFINITY;
  }

  /** The rate to use now, bytes/s (Infinity: no limit). */
  get rateBps(): number {
    return this.rate;
  }

  /** The chunk size for the current rate: a quarter second of it, within [MIN_CHUNK, max]. */
  chunkBytes(max: number): number {
    if (!Number.isFinite(this.rate)) return max;
    return Math.max(MIN_CHUNK, Math.min(max, Math.floor((this.rate * CHUNK_SECONDS) / MIN_CHUNK) * MIN_CHUNK));
  }

  /** Records one chunk call: `bytes` moved in `ms` (the round trip, waiting excluded). */
  observe(bytes: number, ms: number): void {
    const perKiB = ms / Math.max(1, bytes / 1024);
    this.bestMsPerKiB = Math.min(this.bestMsPerKiB, perKiB);
    const observed = (bytes / Math.max(1, ms)) * 1000;
    const slow = perKiB > this.bestMsPerKiB * 2 && ms > this.bestMsPerKiB * (bytes / 1024) + 50 && observed < this.rate * 2;
    if (slow) this.rate = Math.max(FLOOR_BPS, Math.min(Number.isFinite(this.rate) ? this.rate : observed, observed) * 0.7);
    else if (Number.isFinite(this.rate)) {
      const up = this.rate * 1.125;
      this.rate = this.capBps > 0 ? Math.min(this.capBps, up) : up > 1e9 ? Number.POSITIVE_INFINITY : up;
    }
  }
}
