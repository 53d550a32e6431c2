import { readdirSync, readFileSync } from "node:fs";
import type { DiskHealth, HealthReport } from "../../server/protocol/toolbox.ts";
import { firstLine, run } from "./run.ts";

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : {});
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const str = (v: unknown, max: number) => (typeof v === "string" ? v.slice(0, max) : "");

/** Most disks examined, and what a device name and type from `smartctl --scan-open` must look like. */
const MAX_DISKS = 16;
const DEVICE_NAME = /^\/dev\/[A-Za-z0-9/_.:-]{1,120}$/;
const DEVICE_TYPE = /^[A-Za-z0-9_,.+-]{1,64}$/;

/** The raw value of an ATA attribute by id, or null. */
function ataRaw(table: unknown, id: number): number | null {
  if (!Array.isArray(table)) return null;
  const row = table.map(obj).find((a) => a.id === id);
  return row ? num(obj(row.raw).value) : null;
}

/**
 * One disk's summary from `smartctl --json -a` (ATA or NVMe): overall assessment, temperature,
 * reallocated (ATA 5) and pending (ATA 197) sectors, NVMe wear and media errors, power-on hours.
 */
export function parseSmartctl(text: string): DiskHealth {
  const j = obj(JSON.parse(text));
  const device = obj(j.device);
  const nvme = obj(j.nvme_smart_health_information_log);
  const table = obj(j.ata_smart_attributes).table;
  const passed = obj(j.smart_status).passed;
  return {
    device: str(device.name, 256),
    model: str(j.model_name, 256) || str(j.model_family, 256),
    serial: str(j.serial_number, 128),
    protocol: str(device.protocol, 32),
    passed: typeof passed === "boolean" ? passed : null,
    temperatureC: num(obj(j.temperature).current) ?? num(nvme.temperature),
    reallocatedSectors: ataRaw(table, 5),
    pendingSectors: ataRaw(table, 197),
    wearPercent: num(nvme.percentage_used),
    mediaErrors: num(nvme.media_errors),
    powerOnHours: num(obj(j.power_on_time).hours) ?? num(nvme.power_on_hours),
  };
}

/** The devices `smartctl --scan-open --json` found that can be examined (names and types checked). */
export function parseScan(text: string): { name: string; type: string }[] {
  const devices = obj(JSON.parse(text)).devices;
  if (!Array.isArray(devices)) return [];
  return devices
    .map(obj)
    .map((d) => ({ name: str(d.name, 200), type: str(d.type, 80) }))
    .filter((d) => DEVICE_NAME.test(d.name) && DEVICE_TYPE.test(d.type))
    .slice(0, MAX_DISKS);
}

/** S.M.A.R.T. of every disk smartctl can open (smartctl must be installed: smartmontools). */
export async function smartDisks(smartctl = "smartctl"): Promise<{ disks: DiskHealth[]; notes: string[] }> {
  if (!Bun.which(smartctl)) return { disks: [], notes: ["S.M.A.R.T. not read: smartctl (smartmontools) is not installed"] };
  const scan = await run([smartctl, "--scan-open", "--json"], { timeoutMs: 20_000, maxBytes: 1_048_576 });
  let devices: { name: string; type: string }[];
  try {
    devices = parseScan(scan.stdout);
  } catch {
    return { disks: [], notes: [`smartctl --scan-open failed: ${firstLine(scan.stderr || scan.stdout)}`.slice(0, 512)] };
  }
  const disks: DiskHealth[] = [];
  const notes: string[] = devices.length === 0 ? ["smartctl found no disk that reports S.M.A.R.T."] : [];
  for (const d of devices) {
    // exit status is a bit mask: bits 0-1 mean the command or the device open failed; others are findings
    const r = await run([smartctl, "--json", "-a", "-d", d.type, d.name], { timeoutMs: 30_000, maxBytes: 4 * 1_048_576 });
    if (r.exitCode === null || (r.exitCode & 3) !== 0) {
      notes.push(`${d.name}: smartctl could not read it (exit ${r.exitCode ?? "killed"})`.slice(0, 512));
      continue;
    }
    try {
      disks.push(parseSmartctl(r.stdout));
    } catch {
      notes.push(`${d.name}: smartctl printed no JSON`);
    }
  }
  return { disks, notes };
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** Temperatures (°C), fans (RPM) and voltages (V) of the Linux hwmon chips under `root`. */
export function readHwmon(root = "/sys/class/hwmon"): HealthReport["sensors"] {
  let chips: string[];
  try {
    chips = readdirSync(root);
  } catch {
    return [];
  }
  const out: HealthReport["sensors"] = [];
  const kinds = [
    { prefix: "temp", kind: "temperature" as const, scale: 1000 },
    { prefix: "fan", kind: "fan" as const, scale: 1 },
    { prefix: "in", kind: "voltage" as const, scale: 1000 },
  ];
  for (const chip of chips.slice(0, 64)) {
    const dir = `${root}/${chip}`;
    const name = readText(`${dir}/name`) ?? chip;
    let files: string[];
    try {
      files = readdirSync(dir);
    } catch {
      continue;
    }
    for (const { prefix, kind, scale } of kinds) {
      for (const f of files.filter((x) => new RegExp(`^${prefix}\\d+_input$`).test(x)).sort()) {
        const base = f.replace(/_input$/, "");
        const value = Number(readText(`${dir}/${f}`));
        if (!Number.isFinite(value)) continue;
        const max = Number(readText(`${dir}/${base}_max`));
        const crit = Number(readText(`${dir}/${base}_crit`));
        out.push({
          chip: name.slice(0, 128),
          label: (readText(`${dir}/${base}_label`) ?? base).slice(0, 128),
          kind,
          value: value / scale,
          ...(Number.isFinite(max) && max > 0 ? { max: max / scale } : {}),
          ...(Number.isFinite(crit) && crit > 0 ? { critical: crit / scale } : {}),
        });
        if (out.length >= 512) return out;
      }
    }
  }
  return out;
}

/** The features of `sensors -j` this reads: `<kind><n>_input` and its `_max` / `_crit` beside it. */
const SENSOR_KINDS = [
  { prefix: "temp", kind: "temperature" as const },
  { prefix: "fan", kind: "fan" as const },
  { prefix: "in", kind: "voltage" as const },
];

/**
 * Temperatures (°C), fans (RPM) and voltages (V) from lm-sensors' `sensors -j`: chips by name, each
 * feature by its label (sensors.conf applied). A reading the chip cannot give makes sensors print an
 * "ERROR: Can't get value…" line on stderr; a capture with both streams has it inside the JSON, so
 * such lines are dropped first. Limits of 0 or below (unset or nonsense) are left out.
 */
export function parseSensorsJson(text: string): HealthReport["sensors"] {
  const clean = text
    .split("\n")
    .filter((l) => !/^\s*ERROR:/.test(l))
    .join("\n");
  const chips = obj(JSON.parse(clean));
  const out: HealthReport["sensors"] = [];
  for (const [chip, features] of Object.entries(chips).slice(0, 64)) {
    for (const [label, values] of Object.entries(obj(features))) {
      const v = obj(values);
      for (const { prefix, kind } of SENSOR_KINDS) {
        const input = Object.keys(v).find((k) => new RegExp(`^${prefix}\\d+_input$`).test(k));
        const value = input ? num(v[input]) : null;
        if (!input || value === null) continue;
        const base = input.replace(/_input$/, "");
        const max = num(v[`${base}_max`]);
        const crit = num(v[`${base}_crit`]);
        out.push({
          chip: chip.slice(0, 128),
          label: label.slice(0, 128),
          kind,
          value,
          ...(max !== null && max > 0 ? { max } : {}),
          ...(crit !== null && crit > 0 ? { critical: crit } : {}),
        });
        if (out.length >= 512) return out;
      }
    }
  }
  return out;
}

/** Sensors through `sensors -j` when lm-sensors is installed (its labels and corrections), the raw hwmon files otherwise. */
export async function linuxSensors(): Promise<HealthReport["sensors"]> {
  const sensors = Bun.which("sensors");
  if (sensors) {
    const r = await run([sensors, "-j"], { timeoutMs: 15_000, maxBytes: 1_048_576 });
    try {
      if (r.exitCode === 0) return parseSensorsJson(r.stdout);
    } catch {}
  }
  return readHwmon();
}

/** Batteries from /sys/class/power_supply (`uevent` KEY=VALUE files): charge, health against design, cycles. */
export function readBatteries(root = "/sys/class/power_supply"): HealthReport["batteries"] {
  let supplies: string[];
  try {
    supplies = readdirSync(root);
  } catch {
    return [];
  }
  const out: HealthReport["batteries"] = [];
  for (const name of supplies.slice(0, 16)) {
    const u = new Map<string, string>();
    for (const line of (readText(`${root}/${name}/uevent`) ?? "").split("\n")) {
      const i = line.indexOf("=");
      if (i > 0) u.set(line.slice(0, i).replace(/^POWER_SUPPLY_/, ""), line.slice(i + 1));
    }
    if (u.get("TYPE") !== "Battery") continue;
    const n = (k: string) => (u.has(k) && Number.isFinite(Number(u.get(k))) ? Number(u.get(k)) : null);
    const full = n("ENERGY_FULL") ?? n("CHARGE_FULL");
    const design = n("ENERGY_FULL_DESIGN") ?? n("CHARGE_FULL_DESIGN");
    out.push({
      name: name.slice(0, 128),
      status: (u.get("STATUS") ?? "Unknown").slice(0, 64),
      chargePercent: n("CAPACITY"),
      healthPercent: full !== null && design ? Math.round((full / design) * 1000) / 10 : null,
      cycleCount: n("CYCLE_COUNT"),
    });
    if (out.length >= 8) break;
  }
  return out;
}
