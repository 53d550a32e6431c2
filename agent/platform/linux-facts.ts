import { readdirSync, readFileSync } from "node:fs";
import type { DeviceFacts } from "../../server/protocol/telemetry.ts";
import { isWholeDisk } from "../collectors/disk.ts";
import { cleanSerial, clip, commonFacts } from "./facts-common.ts";

/** Parses os-release(5): KEY=value lines, values optionally quoted, backslash escapes inside double quotes. */
export function parseOsRelease(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m === null) continue;
    let value = m[2] ?? "";
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1).replace(/\\(.)/g, "$1");
    } else if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) {
      value = value.slice(1, -1);
    }
    out.set(m[1] ?? "", value);
  }
  return out;
}

/** Distribution name and version from os-release, e.g. "Debian GNU/Linux", "12 (bookworm)". */
export function distroFromOsRelease(text: string): { osName: string; osVersion: string } {
  const r = parseOsRelease(text);
  return {
    osName: clip(r.get("NAME") ?? "Linux", 128),
    osVersion: clip(r.get("VERSION") ?? r.get("VERSION_ID") ?? r.get("BUILD_ID") ?? "", 128),
  };
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== undefined) return undefined;
    throw e;
  }
}

/** First usable serial: DMI product serial (x86, root only), then the device-tree serial (ARM boards). */
function readSerial(): string {
  for (const path of ["/sys/class/dmi/id/product_serial", "/sys/firmware/devicetree/base/serial-number"]) {
    const serial = cleanSerial(readOptional(path) ?? "");
    if (serial !== "") return serial;
  }
  return "";
}

/** Whole disks from /sys/block with size in bytes (the size file counts 512-byte sectors) and model. */
function readDisks(): DeviceFacts["disks"] {
  return safeList("/sys/block")
    .filter(isWholeDisk)
    .slice(0, 64)
    .map((name) => {
      const model = readOptional(`/sys/block/${name}/device/model`)?.trim();
      const sizeBytes = Number(readOptional(`/sys/block/${name}/size`) ?? 0) * 512;
      return model ? { name, sizeBytes, model: clip(model, 128) } : { name, sizeBytes };
    });
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== undefined) return [];
    throw e;
  }
}

/** Facts of this Linux host from os-release, /sys and the `os` module; no child processes. */
export function linuxFacts(): DeviceFacts {
  const distro = distroFromOsRelease(readOptional("/etc/os-release") ?? readOptional("/usr/lib/os-release") ?? "");
  return { ...commonFacts("linux"), ...distro, serialNumber: readSerial(), disks: readDisks() };
}
