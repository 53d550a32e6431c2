import type { EventBus } from "../events/bus.ts";

/** How long a counted total is reused, ms. */
const TTL_MS = 10_000;
/** Most totals kept (one per organization, client scope and filter). */
const MAX_ENTRIES = 5_000;

/**
 * The device list's capped totals, counted once and reused: when a filter's count reached the cap
 * (`exact: false`) it is kept for up to 10 s, dropped early when devices change, change status or
 * group, so a big list queried again and again (every technician's dashboard, a script polling it)
 * does not count a thousand matches on every request. Exact totals are counted each time (cheap
 * under the cap, and right at once after an enrollment, which publishes no bus event). Concurrent
 * requests share one count.
 */
export class ListCounts {
  private readonly entries = new Map<string, { at: number; value: Promise<{ n: number; exact: boolean }> }>();

  constructor(bus: EventBus) {
    const clear = () => this.entries.clear();
    bus.subscribe("device.changed", clear);
    bus.subscribe("device.status", clear);
    bus.subscribe("group.membership", clear);
  }

  get(key: string, count: () => Promise<{ n: number; exact: boolean }>): Promise<{ n: number; exact: boolean }> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < TTL_MS) return hit.value;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    const value = count();
    this.entries.set(key, { at: now, value });
    value.then(
      (v) => {
        if (v.exact && this.entries.get(key)?.value === value) this.entries.delete(key);
      },
      () => this.entries.delete(key),
    );
    return value;
  }
}
