import type { HealthReport, ServiceState } from "../protocol/toolbox.ts";
import type { Metric } from "./store.ts";

/**
 * What the endpoint toolbox read on a device (server/toolbox/health-watch.ts, or a technician's
 * Health tab): its hardware health and antivirus, and the states of the services alert rules name.
 * Either part may be missing: a rule whose part is missing is not evaluated.
 */
export interface HealthSample {
  organizationId: string;
  deviceId: string;
  /** When it was read, ms. */
  at: number;
  health?: HealthReport;
  /** Service name → state; a named service the device does not have is absent. */
  services?: ReadonlyMap<string, ServiceState>;
}

/** Metrics read from a HealthSample, not from telemetry. */
export const HEALTH_METRICS: ReadonlySet<Metric> = new Set([
  "service_state",
  "disk_failing",
  "temperature_c",
  "antivirus_disabled",
  "antivirus_definitions_age_days",
]);

/** Metrics whose value is 0 or a count, compared as "> 0" whatever the body says. */
export const FLAG_METRICS: ReadonlySet<Metric> = new Set(["service_state", "disk_failing", "antivirus_disabled"]);

/** The age given to definitions that are missing or undated, days (so any age threshold fires). */
export const MISSING_DEFINITIONS_DAYS = 36_500;

const DAY_MS = 86_400_000;

/**
 * The value a health rule compares and the words its alert uses, or undefined when the sample does
 * not carry it (no health part, a service the device does not have, no sensor or disk to read):
 * - `service_state`: 1 while the named service is not running (stopped, failed, starting…), 0 running.
 * - `disk_failing`: disks whose S.M.A.R.T. assessment failed or that have reallocated or pending sectors.
 * - `temperature_c`: the hottest temperature sensor or disk, °C.
 * - `antivirus_disabled`: 1 when no antivirus product is found or none has protection on (a product
 *   that says it is off, or whose real-time protection is off, does not count).
 * - `antivirus_definitions_age_days`: age of the freshest definitions of a product, days
 *   (MISSING_DEFINITIONS_DAYS when none has dated definitions).
 */
export function healthMetric(
  rule: { metric: Metric; service: string | null },
  s: HealthSample,
): { value: number; detail: string } | undefined {
  const h = s.health;
  switch (rule.metric) {
    case "service_state": {
      const state = rule.service ? s.services?.get(rule.service) : undefined;
      if (!state) return undefined;
      return { value: state === "running" ? 0 : 1, detail: `${rule.service} is ${state}` };
    }
    case "disk_failing": {
      if (!h || h.disks.length === 0) return undefined;
      const failing = h.disks
        .map((d) => {
          const why = [
            ...(d.passed === false ? ["S.M.A.R.T. assessment failed"] : []),
            ...((d.reallocatedSectors ?? 0) > 0 ? [`${d.reallocatedSectors} reallocated sectors`] : []),
            ...((d.pendingSectors ?? 0) > 0 ? [`${d.pendingSectors} pending sectors`] : []),
          ];
          return why.length > 0 ? `${d.device} (${d.model || "disk"}): ${why.join(", ")}` : undefined;
        })
        .filter((x): x is string => x !== undefined);
      return { value: failing.length, detail: failing.length > 0 ? failing.join("; ") : "every disk healthy" };
    }
    case "temperature_c": {
      if (!h) return undefined;
      const readings = [
        ...h.sensors.filter((r) => r.kind === "temperature").map((r) => ({ c: r.value, where: `${r.chip} ${r.label}` })),
        ...h.disks.filter((d) => d.temperatureC !== null).map((d) => ({ c: d.temperatureC as number, where: d.device })),
      ];
      if (readings.length === 0) return undefined;
      const hottest = readings.reduce((a, b) => (b.c > a.c ? b : a));
      return { value: hottest.c, detail: `${hottest.where} at ${hottest.c} °C` };
    }
    case "antivirus_disabled": {
      if (!h) return undefined;
      if (h.antivirus.length === 0) return { value: 1, detail: "no antivirus found" };
      const on = h.antivirus.filter((a) => a.enabled !== false && a.realTime !== false);
      const off = h.antivirus.filter((a) => !on.includes(a)).map((a) => a.product);
      return on.length > 0
        ? { value: 0, detail: `${on[0]?.product} protecting` }
        : { value: 1, detail: `protection off: ${off.join(", ")}` };
    }
    case "antivirus_definitions_age_days": {
      if (!h || h.antivirus.length === 0) return undefined;
      const dated = h.antivirus.filter((a) => a.definitionsUpdatedAt !== null);
      if (dated.length === 0)
        return { value: MISSING_DEFINITIONS_DAYS, detail: `${h.antivirus[0]?.product}: no dated definitions (missing)` };
      const freshest = dated.reduce((a, b) => ((b.definitionsUpdatedAt ?? 0) > (a.definitionsUpdatedAt ?? 0) ? b : a));
      const days = Math.max(0, Math.floor(((s.at - (freshest.definitionsUpdatedAt ?? s.at)) / DAY_MS) * 10) / 10);
      return { value: days, detail: `${freshest.product} definitions ${freshest.definitions ?? ""} ${days} days old`.replace("  ", " ") };
    }
    default:
      return undefined;
  }
}
