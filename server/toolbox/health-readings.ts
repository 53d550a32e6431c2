import type { HealthReport } from "../protocol/toolbox.ts";

/** What a health reading measures (device_health_readings.kind). */
type ReadingKind =
  | "temperature"
  | "fan"
  | "voltage"
  | "disk_temperature"
  | "reallocated_sectors"
  | "pending_sectors"
  | "disk_wear"
  | "battery_charge"
  | "battery_health"
  | "antivirus_definitions_age_days";

export interface Reading {
  kind: ReadingKind;
  /** What it is of: "<chip> <label>", a disk's device, a battery's or a product's name. */
  subject: string;
  value: number;
}

/** Most readings kept from one report (the protocol allows 512 sensors, 64 disks, 8 batteries, 16 products). */
const MAX_READINGS = 1000;

/** The numbers of a health report, as time-series readings (at `at`, ms, for definitions' age). */
export function healthReadings(h: HealthReport, at: number): Reading[] {
  const out: Reading[] = [];
  const add = (kind: ReadingKind, subject: string, value: number | null) => {
    if (value !== null && Number.isFinite(value)) out.push({ kind, subject: subject.slice(0, 300), value });
  };
  for (const s of h.sensors) add(s.kind, `${s.chip} ${s.label}`, s.value);
  for (const d of h.disks) {
    add("disk_temperature", d.device, d.temperatureC);
    add("reallocated_sectors", d.device, d.reallocatedSectors);
    add("pending_sectors", d.device, d.pendingSectors);
    add("disk_wear", d.device, d.wearPercent);
  }
  for (const b of h.batteries) {
    add("battery_charge", b.name, b.chargePercent);
    add("battery_health", b.name, b.healthPercent);
  }
  for (const a of h.antivirus)
    if (a.definitionsUpdatedAt !== null)
      add("antivirus_definitions_age_days", a.product, Math.max(0, (at - a.definitionsUpdatedAt) / 86_400_000));
  // one reading per (kind, subject): a chip that names two inputs alike keeps the first
  const seen = new Set<string>();
  return out.filter((r) => !seen.has(`${r.kind}\u0000${r.subject}`) && seen.add(`${r.kind}\u0000${r.subject}`)).slice(0, MAX_READINGS);
}
