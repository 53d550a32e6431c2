import type { Sql } from "postgres";
import { type WindowRow, currentWindows, openAlerts, resolveAlerts } from "../alerts/store.ts";
import type { LiveHub } from "../live/hub.ts";
import type { AlertChanged, EventBus, StoredSample } from "../events/bus.ts";
import { log } from "../log.ts";
import { alertType, diskFree, holds, inScope, metricValue } from "./conditions.ts";
import { HEALTH_METRICS, type HealthSample, healthMetric } from "./health.ts";
import { type DeviceMeta, type RuleRow, type RuleState, deviceMeta, listRules, loadStates, okState, saveStates } from "./store.ts";

/** Device facts (site, client, tags) are re-read after this long, ms. */
const META_TTL_MS = 60_000;
/** Most devices whose facts are cached. */
const MAX_META = 200_000;
/** Flapping: this many firings and resolutions within the window… */
const FLAP_CHANGES = 6;
const FLAP_WINDOW_MS = 3_600_000;
/** …until none for this long. */
const FLAP_QUIET_MS = 1_800_000;
/**
 * States that raise or clear no alert (ok ↔ pending) are written together at most this often, ms: a
 * metric wavering around a threshold on thousands of devices would otherwise commit a transaction per
 * wavering sample. A firing or a resolution is written at once, with whatever waits.
 */
const STATE_WRITE_MS = 500;

/** The outcome of a script check a device ran for a `script_exit_code` rule. */
export interface CheckResult {
  organizationId: string;
  deviceId: string;
  ruleId: string;
  exitCode: number;
  /** When it finished, ms. */
  at: number;
  /** The first line of its output, for the alert's message. */
  output: string;
}

/**
 * Threshold rules evaluated as telemetry is stored (no table scans): a state per (rule, device),
 * ok → pending when the condition starts holding → firing once it has held for the rule's duration
 * (one alert) → ok again when it clears (alert resolved). A rule does not fire again within its
 * cooldown after a resolution. Transitions are written to the database, so they survive restarts.
 */
export class RuleEvaluator {
  private rulesByOrg = new Map<string, RuleRow[]>();
  private ruleById = new Map<string, RuleRow>();
  private windows: WindowRow[] = [];
  private states = new Map<string, RuleState>();
  private readonly meta = new Map<string, { at: number; d: DeviceMeta }>();
  /** Counts the drops of cached facts: a load that overlapped one keeps what it read for that pass only. */
  private forgets = 0;
  private chain: Promise<void> = Promise.resolve();
  /** States changed in memory and not yet written, by `${ruleId}:${deviceId}` (the latest of each pair). */
  private readonly unsaved = new Map<string, { ruleId: string; deviceId: string; s: RuleState }>();
  private writeTimer: ReturnType<typeof setTimeout> | undefined;
  private idleChain: Promise<void> | undefined;
  /** Samples evaluated and time spent, for the benchmark. */
  readonly stats = { samples: 0, checks: 0, ms: 0 };

  constructor(
    private readonly sql: Sql,
    private readonly live: LiveHub,
    /** Every firing, resolution and flapping notice goes out as `alert.changed`. */
    private readonly bus: EventBus,
  ) {}

  async start(): Promise<void> {
    await this.reloadRules();
    this.states = await loadStates(this.sql);
  }

  /** Rules changed through the API (or periodically): read them again. */
  async reloadRules(): Promise<void> {
    const byOrg = new Map<string, RuleRow[]>();
    for (const r of await listRules(this.sql)) {
      if (!r.enabled) continue;
      const list = byOrg.get(r.organizationId) ?? [];
      list.push(r);
      byOrg.set(r.organizationId, list);
    }
    this.rulesByOrg = byOrg;
    this.ruleById = new Map([...byOrg.values()].flat().map((r) => [r.id, r]));
    this.windows = await currentWindows(this.sql);
  }

  /** True while a maintenance window covers the device (its rules then do not fire). */
  private muted(d: DeviceMeta, at: number): boolean {
    return this.windows.some(
      (w) => w.organizationId === d.organizationId && w.startsAt.getTime() <= at && at < w.endsAt.getTime() && inScope(w, d),
    );
  }

  /** Queues stored samples for evaluation, in the order they were stored. */
  submit(samples: StoredSample[]): void {
    this.chain = this.chain
      .then(() => this.evaluate(samples))
      .catch((err) => log("error", "rule evaluation failed", { error: err instanceof Error ? err.message : String(err) }));
  }

  /** Queues a script check's result for evaluation against its rule. */
  submitCheck(r: CheckResult): void {
    this.chain = this.chain
      .then(() => this.evaluateCheck(r))
      .catch((err) => log("error", "check evaluation failed", { error: err instanceof Error ? err.message : String(err) }));
  }

  private async evaluateCheck(r: CheckResult): Promise<void> {
    const rule = this.rulesByOrg.get(r.organizationId)?.find((x) => x.id === r.ruleId);
    if (rule?.metric !== "script_exit_code") return; // deleted or disabled since it was sent
    await this.loadMeta([r.deviceId]);
    const d = this.meta.get(r.deviceId)?.d;
    if (!d || d.organizationId !== r.organizationId || !inScope(rule, d)) return;
    await this.step(rule, d, r.exitCode, r.at, r.output);
  }

  /**
   * Devices' statuses changed (one sweep's changes at once): their offline rules see 1 (offline) or 0
   * (anything else). A rule with a duration stays pending; `sweepOffline` fires it once the device has
   * been offline that long. Devices of organizations without offline rules cost nothing; the others'
   * facts load in one query (a reconnect storm flips thousands at once).
   */
  submitStatuses(changes: { organizationId: string; deviceId: string; offline: boolean; at: number }[]): void {
    this.chain = this.chain
      .then(async () => {
        const offlineRules = (orgId: string) => (this.rulesByOrg.get(orgId) ?? []).filter((r) => r.metric === "offline");
        const relevant = changes.filter((c) => offlineRules(c.organizationId).length > 0);
        if (relevant.length === 0) return;
        await this.loadMeta(relevant.map((c) => c.deviceId));
        for (const c of relevant) {
          const d = this.meta.get(c.deviceId)?.d;
          if (!d) continue;
          for (const rule of offlineRules(c.organizationId)) if (inScope(rule, d)) await this.step(rule, d, c.offline ? 1 : 0, c.at);
        }
      })
      .catch((err) => log("error", "offline rule evaluation failed", { error: err instanceof Error ? err.message : String(err) }));
  }

  /** Fires the offline rules whose devices have now been offline for the rule's duration (pending states only, in memory). */
  sweepOffline(now = Date.now()): Promise<void> {
    this.chain = this.chain
      .then(async () => {
        for (const [key, st] of this.states) {
          if (st.state !== "pending") continue;
          const [ruleId, deviceId] = key.split(":") as [string, string];
          const rule = this.ruleById.get(ruleId);
          if (rule?.metric !== "offline" || now - st.since < rule.durationSeconds * 1000) continue;
          await this.loadMeta([deviceId]);
          const d = this.meta.get(deviceId)?.d;
          if (d && inScope(rule, d)) await this.step(rule, d, 1, now);
        }
      })
      .catch((err) => log("error", "offline sweep failed", { error: err instanceof Error ? err.message : String(err) }));
    return this.chain;
  }

  /**
   * What the endpoint toolbox read on a device (health, antivirus, named services' states): its
   * health rules in scope step with the values the sample carries; the others are left as they are.
   */
  submitHealth(h: HealthSample): void {
    this.chain = this.chain
      .then(async () => {
        const rules = (this.rulesByOrg.get(h.organizationId) ?? []).filter((r) => HEALTH_METRICS.has(r.metric));
        if (rules.length === 0) return;
        await this.loadMeta([h.deviceId]);
        const d = this.meta.get(h.deviceId)?.d;
        if (!d || d.organizationId !== h.organizationId) return;
        for (const rule of rules) {
          if (!inScope(rule, d)) continue;
          const m = healthMetric(rule, h);
          if (m) await this.step(rule, d, m.value, h.at, m.detail);
        }
      })
      .catch((err) => log("error", "health rule evaluation failed", { error: err instanceof Error ? err.message : String(err) }));
  }

  /** Waits for everything submitted so far, its states written (tests, shutdown). */
  idle(): Promise<void> {
    // the same promise while nothing was queued since the last call (shutdown compares them to know it is done)
    if (this.chain !== this.idleChain) {
      this.chain = this.chain.then(() => this.writeStates());
      this.idleChain = this.chain;
    }
    return this.chain;
  }

  private async evaluate(samples: StoredSample[]): Promise<void> {
    const t0 = performance.now();
    const relevant = samples.filter((s) => (this.rulesByOrg.get(s.organizationId)?.length ?? 0) > 0);
    if (relevant.length === 0) return;
    await this.loadMeta(relevant.map((s) => s.deviceId));
    for (const s of relevant) {
      const d = this.meta.get(s.deviceId)?.d;
      if (!d) continue;
      this.stats.samples++;
      for (const rule of this.rulesByOrg.get(s.organizationId) ?? []) {
        if (rule.metric === "script_exit_code" || rule.metric === "offline" || HEALTH_METRICS.has(rule.metric)) continue;
        const at = Date.parse(s.sample.time);
        if (!inScope(rule, d)) {
          // out of the rule's scope now (left its group, policy detached or blocked, moved): its alert clears
          if ((this.states.get(`${rule.id}:${d.id}`)?.state ?? "ok") !== "ok") await this.step(rule, d, Number.NaN, at);
          continue;
        }
        this.stats.checks++;
        if (rule.metric === "disk_free_percent") {
          const disk = diskFree(s, rule.mount); // the mount goes into the message
          await this.step(rule, d, disk?.freePercent ?? Number.NaN, at, disk?.mount);
        } else await this.step(rule, d, metricValue(rule, s), at);
      }
    }
    this.stats.ms += performance.now() - t0;
  }

  /**
   * One value for a rule on a device, at a time (ms). A firing or resolution counts towards flap
   * detection: the sixth within an hour makes the pair flapping, which holds back notifications and
   * workflows (one notice says so) until half an hour passes without a change (another notice).
   */
  private async step(rule: RuleRow, d: DeviceMeta, value: number, at: number, detail?: string): Promise<void> {
    const key = `${rule.id}:${d.id}`;
    let st = this.states.get(key) ?? okState();
    if (st.flapping && at - (st.changes.at(-1) ?? 0) >= FLAP_QUIET_MS) {
      st = { ...st, flapping: false, changes: [] };
      await this.save(key, rule.id, d.id, st);
      const now = st.state === "firing" ? "firing" : "clear";
      await this.notice(rule, d, st.alertId, "alert.stable", `Stable again: ${rule.name} on ${d.hostname} (${now})`, value);
    }
    if (!holds(rule, value)) {
      if (st.state === "ok") return;
      if (st.state === "firing" && st.alertId) {
        await resolveAlerts(this.sql, { ids: [st.alertId] });
        this.live.publish(d.organizationId, {
          type: "alert.resolved",
          alertId: st.alertId,
          deviceId: d.id,
          alertType: alertType(rule),
          severity: rule.severity,
          message: `${rule.name} cleared on ${d.hostname}`,
        });
        const flap = this.flap(st, at);
        await this.save(key, rule.id, d.id, { ...flap, state: "ok", since: at, alertId: null, lastResolvedAt: at }, true);
        if (flap.started) await this.notice(rule, d, st.alertId, "alert.flapping", `Flapping: ${rule.name} on ${d.hostname}`, value);
        else if (!flap.flapping)
          this.bus.publish(
            "alert.changed",
            this.event(
              rule,
              d,
              st.alertId,
              "alert.resolved",
              `Resolved: ${rule.name} on ${d.hostname}`,
              `${rule.name} cleared on ${d.hostname}`,
              value,
            ),
          );
        return;
      }
      await this.save(key, rule.id, d.id, { ...st, state: "ok", since: at, alertId: null });
      return;
    }
    if (st.state === "firing") return;
    const since = st.state === "pending" ? st.since : at;
    const heldLongEnough = at - since >= rule.durationSeconds * 1000;
    const coolingDown = st.lastResolvedAt !== null && at - st.lastResolvedAt < rule.cooldownSeconds * 1000;
    if (!heldLongEnough || coolingDown || this.muted(d, Date.now())) {
      if (st.state !== "pending") await this.save(key, rule.id, d.id, { ...st, state: "pending", since });
      return;
    }
    const message = this.describe(rule, d, value, detail);
    const [opened] = await openAlerts(this.sql, [
      { organizationId: d.organizationId, deviceId: d.id, ruleId: rule.id, type: alertType(rule), severity: rule.severity, message },
    ]);
    const alertId = opened?.id;
    const flap = this.flap(st, at);
    await this.save(
      key,
      rule.id,
      d.id,
      {
        ...flap,
        state: "firing",
        since: at,
        alertId: alertId ?? null,
        lastResolvedAt: st.lastResolvedAt,
      },
      true,
    );
    if (alertId) {
      this.live.publish(d.organizationId, {
        type: "alert.created",
        alertId,
        deviceId: d.id,
        alertType: alertType(rule),
        severity: rule.severity,
        message,
      });
      log("info", "alert firing", { ruleId: rule.id, deviceId: d.id, alertId, flapping: flap.flapping });
      if (flap.started) await this.notice(rule, d, alertId, "alert.flapping", `Flapping: ${rule.name} on ${d.hostname}`, value);
      else if (!flap.flapping)
        this.bus.publish(
          "alert.changed",
          this.event(rule, d, alertId, "alert.firing", `[${rule.severity}] ${rule.name} on ${d.hostname}`, message, value),
        );
    }
  }

  /** The flap bookkeeping after a firing or resolution at `at`. */
  private flap(st: RuleState, at: number): { changes: number[]; flapping: boolean; started: boolean } {
    const changes = [...st.changes.filter((t) => at - t < FLAP_WINDOW_MS), at].slice(-FLAP_CHANGES);
    const flapping = st.flapping || changes.length >= FLAP_CHANGES;
    return { changes, flapping, started: flapping && !st.flapping };
  }

  /** The alert's message; `detail` is a check's first output line, or the mount of a disk rule. */
  private describe(rule: RuleRow, d: DeviceMeta, value: number, detail?: string): string {
    const held = rule.durationSeconds ? ` for ${rule.durationSeconds} s` : "";
    if (rule.metric === "script_exit_code")
      return `${rule.name} on ${d.hostname}: exit code ${value}${held}${detail ? ` — ${detail}` : ""}`;
    if (rule.metric === "offline")
      return `${rule.name}: ${d.hostname} offline${rule.durationSeconds ? ` for ${rule.durationSeconds} s` : ""}`;
    if (rule.metric === "disk_free_percent")
      return `${rule.name} on ${d.hostname}: ${detail ?? "disk"} ${value.toFixed(1)} % free ${rule.operator} ${rule.threshold}${held}`;
    if (HEALTH_METRICS.has(rule.metric)) return `${rule.name} on ${d.hostname}: ${detail ?? rule.metric}${held}`;
    return `${rule.name} on ${d.hostname}: ${rule.metric} ${value.toFixed(1)} ${rule.operator} ${rule.threshold}${held}`;
  }

  private async notice(
    rule: RuleRow,
    d: DeviceMeta,
    alertId: string | null,
    event: "alert.flapping" | "alert.stable",
    subject: string,
    value: number,
  ) {
    log("info", event === "alert.flapping" ? "rule flapping" : "rule stable again", { ruleId: rule.id, deviceId: d.id });
    const text =
      event === "alert.flapping"
        ? `${rule.name} on ${d.hostname} fired and cleared ${FLAP_CHANGES} times within an hour. Notifications for it pause until it settles for ${FLAP_QUIET_MS / 60_000} minutes.`
        : `${rule.name} on ${d.hostname} has not changed for ${FLAP_QUIET_MS / 60_000} minutes; notifications resume.`;
    this.bus.publish("alert.changed", this.event(rule, d, alertId, event, subject, text, value));
  }

  private event(
    rule: RuleRow,
    d: DeviceMeta,
    alertId: string | null,
    event: AlertChanged["event"],
    subject: string,
    text: string,
    value: number,
  ): AlertChanged {
    const alert = {
      id: alertId,
      rule: rule.name,
      type: alertType(rule),
      severity: rule.severity,
      deviceId: d.id,
      hostname: d.hostname,
      metric: rule.metric,
      value,
      threshold: rule.threshold,
    };
    return {
      organizationId: d.organizationId,
      channelIds: rule.channelIds,
      alertId,
      event,
      message: { subject, text, alert: { ...alert, state: event.slice("alert.".length) } },
    };
  }

  /** Sets a pair's state; written at once when `now` (a firing or a resolution), else within `STATE_WRITE_MS`. */
  private async save(key: string, ruleId: string, deviceId: string, s: RuleState, now = false): Promise<void> {
    this.states.set(key, s);
    this.unsaved.set(key, { ruleId, deviceId, s });
    if (now) await this.writeStates();
    else this.writeLater();
  }

  private writeLater(): void {
    if (this.writeTimer) return;
    this.writeTimer = setTimeout(() => {
      this.writeTimer = undefined;
      this.chain = this.chain.then(() => this.writeStates());
    }, STATE_WRITE_MS);
    this.writeTimer.unref?.();
  }

  /** Writes the unsaved states in one statement; on failure they wait for the next write (unless newer ones replaced them). */
  private async writeStates(): Promise<void> {
    clearTimeout(this.writeTimer);
    this.writeTimer = undefined;
    if (this.unsaved.size === 0) return;
    const batch = [...this.unsaved];
    this.unsaved.clear();
    try {
      await saveStates(
        this.sql,
        batch.map(([, v]) => v),
      );
    } catch (err) {
      for (const [key, v] of batch) if (!this.unsaved.has(key)) this.unsaved.set(key, v);
      log("warn", "rule states not written, will retry", { states: batch.length, error: err instanceof Error ? err.message : String(err) });
      this.writeLater();
    }
  }

  /**
   * Smart-group joins and leaves: the devices' cached facts are read again on their next sample, so
   * group-scoped rules and the policies attached to groups follow at once.
   */
  groupMembership(changes: { groupId: string; deviceId: string; joined: boolean }[]): void {
    this.forgets++;
    for (const c of changes) this.meta.delete(c.deviceId);
  }

  /** Devices moved, were re-tagged or deleted: their facts are read again on their next sample. */
  forgetDevices(ids: string[]): void {
    this.forgets++;
    for (const id of ids) this.meta.delete(id);
  }

  /** A policy, its assignments or a block changed: rules again, and every device's policies on its next sample. */
  async policiesChanged(): Promise<void> {
    this.forgets++;
    this.meta.clear();
    await this.reloadRules();
  }

  private async loadMeta(ids: string[]): Promise<void> {
    const now = Date.now();
    const missing = [...new Set(ids)].filter((id) => (this.meta.get(id)?.at ?? 0) < now - META_TTL_MS);
    if (missing.length === 0) return;
    if (this.meta.size + missing.length > MAX_META) this.meta.clear();
    const forgets = this.forgets;
    const loaded = await deviceMeta(this.sql, missing);
    // facts dropped while the query ran (a group joined, a device moved) may be older than the drop:
    // used for the pass that asked, read again on the next
    const at = this.forgets === forgets ? now : 0;
    for (const d of loaded) this.meta.set(d.id, { at, d });
  }
}
