import { type LiveEvent, type LiveFrame, liveFrame } from "../protocol/live.ts";

export interface LiveSubscriber {
  organizationId: string;
  /** For a user limited to clients or groups: whether they reach this device (events about others are not sent). */
  reaches?: (deviceId: string) => boolean;
  /** Reloads what `reaches` answers (devices moved, enrolled, or joined and left smart groups). */
  refreshReach?: () => void;
  send(frame: LiveFrame): void;
}

/**
 * Fan-out of live events to the dashboards of one node, per organization, and the count of
 * watchers per device (a watched device's agent samples every 1–2 s).
 */
export class LiveHub {
  private readonly byOrg = new Map<string, Set<LiveSubscriber>>();
  private readonly watchers = new Map<string, Map<LiveSubscriber, number>>();

  /** In a cluster: hands each event published here to the other nodes' dashboards too. */
  relay: ((organizationId: string, event: LiveEvent) => void) | undefined;

  /** In a cluster: whether a dashboard on another node watches the device. */
  watchedElsewhere: (deviceId: string) => boolean = () => false;

  constructor(private readonly onWatchChange: (deviceId: string, watched: boolean) => void) {}

  subscribe(s: LiveSubscriber): void {
    const set = this.byOrg.get(s.organizationId) ?? new Set<LiveSubscriber>();
    this.byOrg.set(s.organizationId, set);
    set.add(s);
  }

  unsubscribe(s: LiveSubscriber): void {
    this.byOrg.get(s.organizationId)?.delete(s);
    for (const [deviceId, subs] of this.watchers) if (subs.has(s)) this.unwatch(s, deviceId, true);
  }

  /**
   * Sends an event to every dashboard of the organization (telemetry only to the device's watchers;
   * a client-scoped dashboard only events about devices it reaches).
   */
  publish(organizationId: string, event: LiveEvent): void {
    this.deliver(organizationId, event);
    this.relay?.(organizationId, event);
  }

  /** `publish` to this node's dashboards only (what an event relayed from another node comes to). */
  deliver(organizationId: string, event: LiveEvent): void {
    const frame = liveFrame(event);
    if (event.type === "device.telemetry" || event.type === "command.updated") {
      for (const s of this.watchers.get(event.deviceId)?.keys() ?? []) s.send(frame);
      return;
    }
    for (const s of this.byOrg.get(organizationId) ?? []) {
      if (s.reaches && !("deviceId" in event && s.reaches(event.deviceId))) continue;
      s.send(frame);
    }
  }

  /** Every scoped dashboard reloads its reach (after devices moved or smart-group membership changed). */
  refreshReaches(): void {
    for (const subs of this.byOrg.values()) for (const s of subs) s.refreshReach?.();
  }

  watch(s: LiveSubscriber, deviceId: string): void {
    const subs = this.watchers.get(deviceId) ?? new Map<LiveSubscriber, number>();
    this.watchers.set(deviceId, subs);
    subs.set(s, (subs.get(s) ?? 0) + 1);
    if (subs.size === 1 && subs.get(s) === 1) this.onWatchChange(deviceId, true);
  }

  unwatch(s: LiveSubscriber, deviceId: string, all = false): void {
    const subs = this.watchers.get(deviceId);
    const n = subs?.get(s);
    if (!subs || n === undefined) return;
    if (n > 1 && !all) subs.set(s, n - 1);
    else subs.delete(s);
    if (subs.size === 0) {
      this.watchers.delete(deviceId);
      this.onWatchChange(deviceId, false);
    }
  }

  /** Whether a dashboard watches the device (on this node or, in a cluster, any other). */
  isWatched(deviceId: string): boolean {
    return this.watchers.has(deviceId) || this.watchedElsewhere(deviceId);
  }

  /** The devices watched from this node's dashboards (announced to a node that joins the cluster). */
  watchedHere(): string[] {
    return [...this.watchers.keys()];
  }

  /** How many watch subscriptions one dashboard socket may hold. */
  static readonly MAX_WATCHES_PER_SOCKET = 50;
}
