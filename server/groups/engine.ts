import type { Sql } from "postgres";
import type { StatusChange } from "../devices/status.store.ts";
import type { EventBus, StoredSample } from "../events/bus.ts";
import { log } from "../log.ts";
import { type Predicate, compileExpression } from "./expression.ts";
import { type DeviceEntry, type MembershipChange, applyMembership, deviceEntries, groupExpressions } from "./store.ts";

interface CompiledGroup {
  id: string;
  matches: Predicate;
}

/**
 * Cached groups and device entries are read again after this long, ms: what another server node
 * changed (a group, a device's tags) reaches this one within it; this node's own changes arrive at
 * once by event.
 */
const CACHE_TTL_MS = 60_000;

/**
 * Keeps smart-group membership current. Groups are compiled once per organization and devices are
 * kept in memory as snapshots (facts, tags, place, status, latest telemetry) with the groups they
 * belong to, so a stored sample costs one predicate per group of its organization and only the
 * changes are written (batched per event). Work runs one event at a time, in arrival order.
 *
 * One process's view: changes made through this process arrive by event at once; those made on
 * another server node when the cached entries expire (`CACHE_TTL_MS`).
 */
export class GroupEngine {
  private readonly groups = new Map<string, { at: number; list: CompiledGroup[] }>();
  private readonly devices = new Map<string, DeviceEntry & { at: number }>();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly sql: Sql,
    /** Written joins and leaves go out as `group.membership`. */
    private readonly bus: EventBus,
  ) {}

  /** New telemetry: updates the snapshots and re-evaluates those devices. */
  telemetryStored(samples: StoredSample[]): Promise<void> {
    return this.serially(async () => {
      const latest = new Map<string, StoredSample>();
      for (const s of samples) {
        const seen = latest.get(s.deviceId);
        if (!seen || Date.parse(s.sample.time) > Date.parse(seen.sample.time)) latest.set(s.deviceId, s);
      }
      const orgs = new Set([...latest.values()].map((s) => s.organizationId));
      if (!(await this.anyGroups(orgs))) return;
      const entries = await this.entries([...latest.keys()]);
      for (const e of entries) {
        const s = latest.get(e.id) as StoredSample;
        const at = Date.parse(s.sample.time);
        if (at < e.telemetryAt) continue;
        e.telemetryAt = at;
        e.snapshot.telemetry = {
          cpu: s.sample.cpuPercent,
          memory: s.summary.memoryPercent,
          disk: s.summary.diskPercent,
          load1: s.sample.load[0],
        };
      }
      await this.evaluate(entries);
    });
  }

  /** Status changes: updates the snapshots and re-evaluates those devices. */
  statusChanged(changes: StatusChange[]): Promise<void> {
    return this.serially(async () => {
      if (!(await this.anyGroups(new Set(changes.map((c) => c.organizationId))))) return;
      const status = new Map(changes.map((c) => [c.id, c.status]));
      const entries = await this.entries([...status.keys()]);
      for (const e of entries) e.snapshot.status = status.get(e.id) ?? e.snapshot.status;
      await this.evaluate(entries);
    });
  }

  /** A device's facts, tags or site changed, or it was deleted: reloads it and re-evaluates it. */
  devicesChanged(deviceIds: string[]): Promise<void> {
    return this.serially(async () => {
      for (const id of deviceIds) this.devices.delete(id);
      await this.evaluate(await this.entries(deviceIds));
    });
  }

  /** Drops cached groups of an organization or cached devices (they changed on another server node). */
  forget(what: { organizationId?: string; deviceIds?: string[] }): Promise<void> {
    return this.serially(async () => {
      if (what.organizationId) this.groups.delete(what.organizationId);
      for (const id of what.deviceIds ?? []) this.devices.delete(id);
    });
  }

  /** A group was created, changed or deleted: recompiles its organization's groups and re-evaluates every device there. */
  groupChanged(organizationId: string): Promise<void> {
    return this.serially(async () => {
      this.groups.delete(organizationId);
      const entries = await deviceEntries(this.sql, { organizationId });
      const at = Date.now();
      for (const e of entries) this.devices.set(e.id, { ...e, at });
      await this.evaluate(entries);
    });
  }

  private serially(work: () => Promise<void>): Promise<void> {
    const run = this.queue.then(work);
    this.queue = run.catch((err) =>
      log("error", "group membership update failed", { error: err instanceof Error ? err.message : String(err) }),
    );
    return run;
  }

  /** Whether any of these organizations has a group (loads and compiles their groups on first use). */
  private async anyGroups(orgs: Set<string>): Promise<boolean> {
    let any = false;
    for (const org of orgs) if ((await this.compiled(org)).length > 0) any = true;
    return any;
  }

  private async compiled(organizationId: string): Promise<CompiledGroup[]> {
    const cached = this.groups.get(organizationId);
    if (cached && cached.at > Date.now() - CACHE_TTL_MS) return cached.list;
    const out: CompiledGroup[] = [];
    for (const g of await groupExpressions(this.sql, organizationId)) {
      try {
        out.push({ id: g.id, matches: compileExpression(g.expression) });
      } catch (err) {
        // saved expressions were checked at save time; one that no longer parses matches nothing
        log("warn", "smart group expression does not compile", { groupId: g.id, error: err instanceof Error ? err.message : String(err) });
      }
    }
    this.groups.set(organizationId, { at: Date.now(), list: out });
    return out;
  }

  /** The cached entries of these devices, loading the missing ones in one query; unknown ids are left out. */
  private async entries(ids: string[]): Promise<DeviceEntry[]> {
    const stale = Date.now() - CACHE_TTL_MS;
    const missing = ids.filter((id) => (this.devices.get(id)?.at ?? 0) <= stale);
    if (missing.length > 0) {
      const at = Date.now();
      for (const e of await deviceEntries(this.sql, { ids: missing })) this.devices.set(e.id, { ...e, at });
    }
    return ids.flatMap((id) => this.devices.get(id) ?? []);
  }

  /** Evaluates every group of each device's organization; writes the joins and leaves. */
  private async evaluate(entries: DeviceEntry[]): Promise<void> {
    const changes: MembershipChange[] = [];
    for (const e of entries) {
      const groups = await this.compiled(e.organizationId);
      const live = new Set<string>();
      for (const g of groups) {
        live.add(g.id);
        const member = g.matches(e.snapshot);
        if (member !== e.groups.has(g.id)) changes.push({ groupId: g.id, deviceId: e.id, joined: member });
      }
      // memberships of groups deleted meanwhile went with them (cascade)
      for (const id of e.groups) if (!live.has(id)) e.groups.delete(id);
    }
    if (changes.length === 0) return;
    await applyMembership(this.sql, changes);
    for (const c of changes) {
      const e = this.devices.get(c.deviceId);
      if (!e) continue;
      if (c.joined) e.groups.add(c.groupId);
      else e.groups.delete(c.groupId);
    }
    this.bus.publish("group.membership", { changes });
  }
}
