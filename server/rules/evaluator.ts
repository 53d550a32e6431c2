import type { Sql } from "postgres";
import { type WindowRow, currentWindows } from "../alerts/handling.ts";
import type { LiveHub } from "../live/hub.ts";
import { log } from "../log.ts";
import type { StoredSample } from "../telemetry/ingest.ts";
import {
  type DeviceMeta,
  type Metric,
  type RuleRow,
  type RuleState,
  type Scope,
  deviceMeta,
  listRules,
  loadStates,
  openRuleAlert,
  resolveRuleAlert,
  saveState,
} from "./store.ts";

/** Device facts (site, client, tags) are re-read after this long, ms. */
const META_TTL_MS = 60_000;
/** Most devices whose facts are cached. */
const MAX_META = 200_000;

/** The value a rule compares, from one stored sample. */
export function metricValue(metric: Metric, s: StoredSample): number {
  switch (metric) {
    case "cpu_percent":
      return s.sample.cpuPercent;
    case "memory_percent":
      return s.summary.memoryPercent;
    case "swap_percent":
      return s.summary.swapPercent;
    case "disk_free_percent":
      return 100 - s.summary.diskPercent;
    case "load1":
      return s.sample.load[0];
  }
}

export function holds(rule: Pick<RuleRow, "operator" | "threshold">, value: number): boolean {
  switch (rule.operator) {
    case ">":
      return value > rule.threshold;
    case ">=":
      return value >= rule.threshold;
    case "<":
      return value < rule.threshold;
    case "<=":
      return value <= rule.threshold;
  }
}

export function inScope(rule: { scope: Scope }, d: DeviceMeta): boolean {
  const s = rule.scope;
  switch (s.type) {
    case "organization":
      return true;
    case "client":
      return d.clientId === s.id;
    case "site":
      return d.siteId === s.id;
    case "device":
      return d.id === s.id;
    case "tag":
      return d.tags.includes(s.tag);
  }
}

export interface AlertEvent {
  organizationId: string;
  channelIds: string[];
  alertId: string;
  event: "alert.firing" | "alert.resolved";
  message: { subject: string; text: string; alert: Record<string, unknown> };
}

/** The alert type a rule raises: its name as a slug ("CPU high" → cpu_high). */
export const alertType = (rule: RuleRow) =>
  rule.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_|_$/g, "")
    .slice(0, 50) || "rule";

/**
 * Threshold rules evaluated as telemetry is stored (no table scans): a state per (rule, device),
 * ok → pending when the condition starts holding → firing once it has held for the rule's duration
 * (one alert) → ok again when it clears (alert resolved). A rule does not fire again within its
 * cooldown after a resolution. Transitions are written to the database, so they survive restarts.
 */
export class RuleEvaluator {
  private rulesByOrg = new Map<string, RuleRow[]>();
  private windows: WindowRow[] = [];
  private states = new Map<string, RuleState>();
  private readonly meta = new Map<string, { at: number; d: DeviceMeta }>();
  private chain: Promise<void> = Promise.resolve();
  /** Samples evaluated and time spent, for the benchmark. */
  readonly stats = { samples: 0, checks: 0, ms: 0 };

  constructor(
    private readonly sql: Sql,
    private readonly live: LiveHub,
    /** Told of every firing and resolution, to notify the rule's channels. */
    private readonly onAlert: (e: AlertEvent) => Promise<void> = async () => {},
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

  /** Waits for everything submitted so far (tests, shutdown). */
  idle(): Promise<void> {
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
        if (!inScope(rule, d)) continue;
        this.stats.checks++;
        await this.step(rule, d, s);
      }
    }
    this.stats.ms += performance.now() - t0;
  }

  private async step(rule: RuleRow, d: DeviceMeta, s: StoredSample): Promise<void> {
    const key = `${rule.id}:${d.id}`;
    const st = this.states.get(key) ?? { state: "ok", since: 0, alertId: null, lastResolvedAt: null };
    const value = metricValue(rule.metric, s);
    const at = Date.parse(s.sample.time);
    if (!holds(rule, value)) {
      if (st.state === "ok") return;
      if (st.state === "firing" && st.alertId) {
        await resolveRuleAlert(this.sql, st.alertId);
        this.live.publish(d.organizationId, {
          type: "alert.resolved",
          alertId: st.alertId,
          deviceId: d.id,
          alertType: alertType(rule),
          severity: rule.severity,
          message: `${rule.name} cleared on ${d.hostname}`,
        });
        await this.onAlert(
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
      }
      await this.save(key, rule.id, d.id, {
        state: "ok",
        since: at,
        alertId: null,
        lastResolvedAt: st.state === "firing" ? at : st.lastResolvedAt,
      });
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
    const op = rule.operator;
    const message = `${rule.name} on ${d.hostname}: ${rule.metric} ${value.toFixed(1)} ${op} ${rule.threshold}${rule.durationSeconds ? ` for ${rule.durationSeconds} s` : ""}`;
    const alertId = await openRuleAlert(this.sql, {
      organizationId: d.organizationId,
      deviceId: d.id,
      ruleId: rule.id,
      type: alertType(rule),
      severity: rule.severity,
      message,
    });
    await this.save(key, rule.id, d.id, { state: "firing", since: at, alertId: alertId ?? null, lastResolvedAt: st.lastResolvedAt });
    if (alertId) {
      this.live.publish(d.organizationId, {
        type: "alert.created",
        alertId,
        deviceId: d.id,
        alertType: alertType(rule),
        severity: rule.severity,
        message,
      });
      log("info", "alert firing", { ruleId: rule.id, deviceId: d.id, alertId });
      await this.onAlert(this.event(rule, d, alertId, "alert.firing", `[${rule.severity}] ${rule.name} on ${d.hostname}`, message, value));
    }
  }

  private event(
    rule: RuleRow,
    d: DeviceMeta,
    alertId: string,
    event: AlertEvent["event"],
    subject: string,
    text: string,
    value: number,
  ): AlertEvent {
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
      message: { subject, text, alert: { ...alert, state: event === "alert.firing" ? "firing" : "resolved" } },
    };
  }

  private async save(key: string, ruleId: string, deviceId: string, s: RuleState): Promise<void> {
    this.states.set(key, s);
    await saveState(this.sql, ruleId, deviceId, s);
  }

  private async loadMeta(ids: string[]): Promise<void> {
    const now = Date.now();
    const missing = [...new Set(ids)].filter((id) => (this.meta.get(id)?.at ?? 0) < now - META_TTL_MS);
    if (missing.length === 0) return;
    if (this.meta.size + missing.length > MAX_META) this.meta.clear();
    for (const d of await deviceMeta(this.sql, missing)) this.meta.set(d.id, { at: now, d });
  }
}
