import type { EventBus } from "../events/bus.ts";

/** How long a kept count is reused, ms. */
const TTL_MS = 10_000;
/** Most counts kept (one per organization, client scope and filter). */
const MAX_ENTRIES = 5_000;

/**
 * Counts of the device list that are expensive at fleet scale, counted once and reused: a count
 * the caller calls large (`keep`: a total that reached its cap, the status cards of a big fleet) is
 * kept for up to 10 s and dropped early when devices change, change status or group, so a list
 * queried again and again (every technician's dashboard, a script polling it) does not count a
 * fleet on every request. Other counts are made each time (cheap, and right at once after an
 * enrollment, which publishes no bus event). Concurrent requests for one count share its query.
 */
export class ListCounts {
  private readonly entries = new Map<string, { at: number; value: Promise<unknown> }>();

  constructor(bus: EventBus) {
    const clear = () => this.entries.clear();
    bus.subscribe("device.changed", clear);
    bus.subscribe("device.status", clear);
    bus.subscribe("group.membership", clear);
  }

  get<T>(key: string, count: () => Promise<T>, keep: (value: T) => boolean): Promise<T> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < TTL_MS) return hit.value as Promise<T>;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    const value = count();
    this.entries.set(key, { at: now, value });
    value.then(
      (v) => {
        if (!keep(v) && this.entries.get(key)?.value === value) this.entries.delete(key);
      },
      () => this.entries.delete(key),
    );
    return value;
  }
}
