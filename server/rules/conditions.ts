import type { StoredSample } from "../events/bus.ts";
import type { DeviceMeta, RuleRow, Scope } from "./store.ts";

/** The mount with the least free space, or the named one; undefined when the sample has none. */
export function diskFree(s: StoredSample, mount: string | null): { mount: string; freePercent: number } | undefined {
  let worst: { mount: string; freePercent: number } | undefined;
  for (const m of s.sample.mounts) {
    if (mount !== null && m.mount !== mount) continue;
    const freePercent = m.totalBytes > 0 ? Math.max(0, 100 - (m.usedBytes / m.totalBytes) * 100) : 100;
    if (!worst || freePercent < worst.freePercent) worst = { mount: m.mount, freePercent };
  }
  return worst;
}

/** The value a rule compares, from one stored sample (NaN when the sample does not have it: the condition does not hold). */
export function metricValue(rule: Pick<RuleRow, "metric" | "mount">, s: StoredSample): number {
  switch (rule.metric) {
    case "cpu_percent":
      return s.sample.cpuPercent;
    case "memory_percent":
      return s.summary.memoryPercent;
    case "swap_percent":
      return s.summary.swapPercent;
    case "disk_free_percent":
      return diskFree(s, rule.mount)?.freePercent ?? Number.NaN;
    case "load1":
      return s.sample.load[0];
    default:
      return Number.NaN; // from check results, status changes and the toolbox's health reads, not telemetry
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
    case "group":
      return d.groupIds.includes(s.id);
    case "policy":
      return d.policyIds.includes(s.id);
  }
}

/** The alert type a rule raises: its name as a slug ("CPU high" → cpu_high). */
export const alertType = (rule: RuleRow) =>
  rule.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_|_$/g, "")
    .slice(0, 50) || "rule";
