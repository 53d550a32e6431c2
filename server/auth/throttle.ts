/** How many failures a key gets for free, how its holds grow, and when it is forgotten. */
export interface ThrottleLimits {
  /** Failures without any hold (per account or browser). */
  freeFailures: number;
  /** Failures without any hold from one address, across accounts (password spraying). */
  freeAddressFailures: number;
  /** The first hold, doubled with every further failure, ms. */
  firstHoldMs: number;
  /** The longest hold, ms: a stranger can delay an account, never lock it for good. */
  maxHoldMs: number;
  /** Failures older than this are forgotten, ms. */
  forgetAfterMs: number;
  /** Most keys remembered (held keys are kept before quiet ones). */
  maxKeys: number;
}

export const LOGIN_LIMITS: ThrottleLimits = {
  freeFailures: 5,
  freeAddressFailures: 20,
  firstHoldMs: 1_000,
  maxHoldMs: 15 * 60_000,
  forgetAfterMs: 60 * 60_000,
  maxKeys: 50_000,
};

interface Counter {
  failures: number;
  heldUntil: number;
  lastFailure: number;
}

/** A key of the throttle: an account (lower-cased e-mail), a source address, or a trusted browser. */
export type ThrottleKey = `account:${string}` | `address:${string}` | `browser:${string}`;

export interface HoldStarted {
  key: ThrottleKey;
  failures: number;
  holdMs: number;
}

/**
 * Sign-in throttling with growing holds, after OWASP's advice on online guessing: every failure
 * counts against the account (or, for a browser that signed in before, against that browser only,
 * so a stranger cannot hold back the owner's usual browser) and against the source address; past the
 * free failures each one starts a hold twice as long as the last, up to `maxHoldMs`. While a key is
 * held every attempt is refused — the right password too — and not counted, so hammering does
 * not lengthen a hold. In memory and bounded; each server node counts on its own.
 */
export class LoginThrottle {
  private readonly counters = new Map<ThrottleKey, Counter>();

  constructor(
    private readonly limits: ThrottleLimits = LOGIN_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until none of `keys` is held (0: go ahead and check the password). */
  heldFor(keys: readonly ThrottleKey[]): number {
    const now = this.now();
    let wait = 0;
    for (const key of keys) wait = Math.max(wait, (this.counters.get(key)?.heldUntil ?? 0) - now);
    return wait;
  }

  /** Counts a failed sign-in against every key; returns the holds it started. */
  fail(keys: readonly ThrottleKey[]): HoldStarted[] {
    const now = this.now();
    const started: HoldStarted[] = [];
    for (const key of keys) {
      let c = this.counters.get(key);
      if (!c || now - c.lastFailure > this.limits.forgetAfterMs) c = { failures: 0, heldUntil: 0, lastFailure: now };
      c.failures++;
      c.lastFailure = now;
      const free = key.startsWith("address:") ? this.limits.freeAddressFailures : this.limits.freeFailures;
      if (c.failures > free) {
        const holdMs = Math.min(this.limits.maxHoldMs, this.limits.firstHoldMs * 2 ** Math.min(30, c.failures - free - 1));
        c.heldUntil = now + holdMs;
        started.push({ key, failures: c.failures, holdMs });
      }
      this.counters.delete(key); // re-inserted last: the map stays ordered by last failure
      this.counters.set(key, c);
    }
    this.evict(now);
    return started;
  }

  /** A successful sign-in clears the account and browser keys (not the address: sprayers have accounts too). */
  succeed(keys: readonly ThrottleKey[]): void {
    for (const key of keys) if (!key.startsWith("address:")) this.counters.delete(key);
  }

  private evict(now: number): void {
    if (this.counters.size <= this.limits.maxKeys) return;
    for (const [key, c] of this.counters) {
      if (this.counters.size <= this.limits.maxKeys) return;
      if (c.heldUntil <= now) this.counters.delete(key);
    }
    for (const key of this.counters.keys()) {
      if (this.counters.size <= this.limits.maxKeys) return;
      this.counters.delete(key);
    }
  }
}
