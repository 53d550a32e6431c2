import os from "node:os";
import type { DeviceFacts } from "../../server/protocol/telemetry.ts";
import type { OsName } from "./types.ts";

/** Facts every OS can answer from the `os` module alone: the rest comes from per-OS sources. */
export type CommonFacts = Omit<DeviceFacts, "osName" | "osVersion" | "serialNumber" | "disks">;

/** Cuts a string to at most `max` characters (the wire schema's length limits). */
export function clip(s: string, max: number): string {
  return s.length > max ? s.slice(0, max) : s;
}

const SERIAL_PLACEHOLDERS = new Set([
  "",
  "-",
  "0",
  "none",
  "n/a",
  "na",
  "unknown",
  "invalid",
  "empty",
  "not specified",
  "not applicable",
  "default string",
  "to be filled by o.e.m.",
  "system serial number",
  "chassis serial number",
  "serial number",
  "0123456789",
  "123456789",
  "none or not available",
]);

/** A hardware serial number trimmed of padding, or "" for the placeholders firmware vendors leave in. */
export function cleanSerial(raw: string): string {
  const s = raw.replace(/\0/g, "").trim();
  if (SERIAL_PLACEHOLDERS.has(s.toLowerCase()) || /^0+$/.test(s)) return "";
  return clip(s, 128);
}

/** Non-loopback interfaces with their MAC and addresses, within the wire limits. */
export function nicsFromOs(ifaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>): DeviceFacts["nics"] {
  const nics: DeviceFacts["nics"] = [];
  for (const [name, infos] of Object.entries(ifaces)) {
    if (infos === undefined || infos.length === 0 || infos.every((i) => i.internal)) continue;
    nics.push({
      name: clip(name, 64),
      mac: clip(infos[0]?.mac ?? "", 64),
      addresses: infos.slice(0, 32).map((i) => clip(i.address, 64)),
      cidrs: infos.slice(0, 32).flatMap((i) => (i.cidr ? [clip(i.cidr, 64)] : [])),
    });
    if (nics.length === 64) break;
  }
  return nics;
}

/** Hostname, kernel release, architecture, CPU, memory (bytes) and NICs of this machine. */
export function commonFacts(osName: OsName): CommonFacts {
  const cpus = os.cpus();
  return {
    hostname: clip(os.hostname(), 255) || "unknown",
    os: osName,
    kernel: clip(os.release(), 128),
    arch: clip(os.arch(), 32),
    cpuModel: clip(cpus[0]?.model.trim() ?? "", 256),
    cpuCores: cpus.length,
    memoryTotalBytes: os.totalmem(),
    nics: nicsFromOs(os.networkInterfaces()),
  };
}
