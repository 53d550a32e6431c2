import type { Sql } from "postgres";
import type { AgentHub } from "../agents/hub.ts";
import { AppError } from "../errors.ts";
import { log } from "../log.ts";
import { HealthReport, type ServiceList, ServiceList as ServiceListSchema, type ServiceState } from "../protocol/toolbox.ts";
import { inScope } from "../rules/conditions.ts";
import type { HealthSample } from "../rules/health.ts";
import { deviceMeta } from "../rules/store.ts";
import { Toolbox } from "./service.ts";
import { healthReadings } from "./health-readings.ts";
import { dropOldHealthReadings, healthRules, onlineDevicesOf, recordHealthReadings } from "./store.ts";

/** How often a device's hardware health and antivirus are read while a rule needs them (the slow cadence), ms. */
const HEALTH_EVERY_MS = 15 * 60_000;
/** Devices asked at once by one node. */
const CONCURRENCY = 8;
/** Service names one `services` call carries (the protocol's bound). */
const NAMES_PER_ASK = 32;
/** Devices whose groups, policies and tags are read at once to match rules' scopes. */
const META_BATCH = 1000;
/** Most devices one pass reaches on one node. */
const MAX_DEVICES = 20_000;

/**
 * The services a list answers for the names rules watch: a systemd unit by its name with or without
 * `.service`, a Windows service by its name or display name (case does not matter there), a launchd
 * label or init script by its name. A name the device does not have is left out.
 */
export function watchedStates(list: ServiceList, names: readonly string[]): Map<string, ServiceState> {
  const out = new Map<string, ServiceState>();
  for (const n of names) {
    const lower = n.toLowerCase();
    const hit =
      list.items.find((s) => s.name === n || s.name === `${n}.service`) ??
      (list.manager === "windows"
        ? list.items.find((s) => s.name.toLowerCase() === lower || s.displayName.toLowerCase() === lower)
        : undefined);
    if (hit) out.set(n, hit.state);
  }
  return out;
}

/** Stores a health report's numbers as readings (time series) at `at`, ms. */
export function recordHealth(sql: Sql, deviceId: string, at: number, report: HealthReport): Promise<void> {
  return recordHealthReadings(sql, deviceId, new Date(at), healthReadings(report, at));
}

/**
 * Feeds the health alert rules (server/rules/health.ts): every pass (once a minute) asks the online
 * devices this node holds that a health rule covers (its scope: organization, client, site, device,
 * tag, group or policy) for the states of the services their service_state rules name, and every
 * HEALTH_EVERY_MS for their hardware health and antivirus. Nothing is asked where no rule needs it,
 * and a device that cannot answer is skipped until the next pass.
 */
export class HealthWatch {
  private readonly toolbox: Toolbox;
  /** When each device's health was last read, ms (pruned to the devices of the last pass). */
  private lastHealth = new Map<string, number>();
  /** When old readings were last dropped, ms. */
  private lastRetention = 0;

  constructor(
    private readonly sql: Sql,
    private readonly agents: AgentHub,
    private readonly report: (s: HealthSample) => void,
    private readonly healthEveryMs = HEALTH_EVERY_MS,
  ) {
    this.toolbox = new Toolbox(sql, agents);
  }

  /** One pass; resolves when every device asked has answered or failed. */
  async tick(now = Date.now()): Promise<{ asked: number; failed: number }> {
    if (now - this.lastRetention >= 3_600_000) {
      this.lastRetention = now;
      await dropOldHealthReadings(this.sql, new Date(now));
    }
    const rules = await healthRules(this.sql);
    if (rules.length === 0) {
      this.lastHealth.clear();
      return { asked: 0, failed: 0 };
    }
    const orgs = [...new Set(rules.map((r) => r.organizationId))];
    const held = (await onlineDevicesOf(this.sql, orgs, MAX_DEVICES)).filter((d) => this.agents.get(d.id));
    // what each device's rules need: the services named by the service_state rules covering it, health for the others
    const needs = new Map<string, { organizationId: string; services: string[]; health: boolean }>();
    for (let i = 0; i < held.length; i += META_BATCH)
      for (const m of await deviceMeta(
        this.sql,
        held.slice(i, i + META_BATCH).map((d) => d.id),
      )) {
        const mine = rules.filter((r) => r.organizationId === m.organizationId && inScope(r, m));
        if (mine.length === 0) continue;
        const services = [...new Set(mine.flatMap((r) => (r.metric === "service_state" && r.service ? [r.service] : [])))];
        needs.set(m.id, { organizationId: m.organizationId, services, health: mine.some((r) => r.metric !== "service_state") });
      }
    const devices = [...needs].map(([id, n]) => ({ id, ...n }));
    const seen = new Map<string, number>();
    let failed = 0;
    for (let i = 0; i < devices.length; i += CONCURRENCY)
      await Promise.all(
        devices.slice(i, i + CONCURRENCY).map(async (d) => {
          const last = this.lastHealth.get(d.id);
          const healthDue = d.health && (last === undefined || now - last >= this.healthEveryMs);
          seen.set(d.id, healthDue ? now : (last ?? now));
          try {
            await this.read(d.organizationId, d.id, d.services, healthDue);
          } catch (err) {
            if (!(err instanceof AppError)) throw err;
            failed++;
            if (healthDue) seen.delete(d.id); // asked again on the next pass
            log("debug", "health watch: device did not answer", { deviceId: d.id, code: err.code });
          }
        }),
      );
    this.lastHealth = seen;
    return { asked: devices.length, failed };
  }

  /** The named services' states, asked 32 names at a time (the protocol's bound). */
  private async services(deviceId: string, names: string[]): Promise<ServiceList> {
    let all: ServiceList | undefined;
    for (let i = 0; i < names.length; i += NAMES_PER_ASK) {
      const part = await this.toolbox.ask(deviceId, { op: "services", names: names.slice(i, i + NAMES_PER_ASK) }, ServiceListSchema);
      all = all ? { ...all, items: [...all.items, ...part.items] } : part;
    }
    return all ?? { manager: "sysv", items: [] };
  }

  private async read(organizationId: string, deviceId: string, names: string[], health: boolean): Promise<void> {
    const [services, report] = await Promise.all([
      names.length > 0 ? this.services(deviceId, names) : undefined,
      health ? this.toolbox.ask(deviceId, { op: "health" }, HealthReport) : undefined,
    ]);
    if (!services && !report) return;
    const at = Date.now();
    if (report) await recordHealth(this.sql, deviceId, at, report);
    this.report({
      organizationId,
      deviceId,
      at,
      ...(report ? { health: report } : {}),
      ...(services ? { services: watchedStates(services, names) } : {}),
    });
  }
}
