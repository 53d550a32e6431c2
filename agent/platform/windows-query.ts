import * as v from "valibot";
import type { DeviceFacts, MountSample } from "../../server/protocol/telemetry.ts";
import type { ByteCounters } from "../collectors/rate.ts";
import { cleanSerial, clip } from "./facts-common.ts";

/** Output of a command that does not have the shape the parser expects. */
export class UnexpectedOutputError extends Error {
  readonly code = "unexpected_output";
}

/** argv that runs a PowerShell script; -EncodedCommand (UTF-16LE base64) sidesteps Windows argument quoting. */
export function powershellArgv(script: string): string[] {
  const encoded = Buffer.from(`[Console]::OutputEncoding=[Text.Encoding]::UTF8\n${script}`, "utf16le").toString("base64");
  return ["powershell.exe", "-NoLogo", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-EncodedCommand", encoded];
}

/**
 * One PowerShell run per sample: cumulative byte counters of each network adapter (by its alias)
 * and of all physical disks, the process count, fixed volumes and page files.
 */
export const TELEMETRY_SCRIPT = `[pscustomobject]@{
  net = @(Get-CimInstance -Namespace root/StandardCimv2 MSFT_NetAdapterStatisticsSettingData | Select-Object Name,ReceivedBytes,SentBytes)
  disk = @(Get-CimInstance Win32_PerfRawData_PerfDisk_PhysicalDisk -Filter "Name='_Total'" | Select-Object DiskReadBytesPersec,DiskWriteBytesPersec)
  system = @(Get-CimInstance Win32_PerfRawData_PerfOS_System | Select-Object Processes)
  volumes = @(Get-CimInstance Win32_LogicalDisk -Filter 'DriveType=3' | Select-Object DeviceID,FileSystem,Size,FreeSpace)
  pagefiles = @(Get-CimInstance Win32_PageFileUsage | Select-Object AllocatedBaseSize,CurrentUsage)
} | ConvertTo-Json -Compress -Depth 3`;

const count = v.pipe(v.number(), v.minValue(0));
const TelemetryOutput = v.object({
  net: v.array(v.object({ Name: v.string(), ReceivedBytes: count, SentBytes: count })),
  disk: v.array(v.object({ DiskReadBytesPersec: count, DiskWriteBytesPersec: count })),
  system: v.array(v.object({ Processes: count })),
  volumes: v.array(
    v.object({ DeviceID: v.string(), FileSystem: v.nullable(v.string()), Size: v.nullable(v.number()), FreeSpace: v.nullable(v.number()) }),
  ),
  pagefiles: v.array(v.object({ AllocatedBaseSize: count, CurrentUsage: count })),
});

/** Validates a script's JSON output against its schema, or throws UnexpectedOutputError. */
function checked<S extends v.GenericSchema>(schema: S, text: string, what: string): v.InferOutput<S> {
  const r = v.safeParse(schema, jsonOf(text, what));
  if (!r.success) throw new UnexpectedOutputError(`${what}: ${v.summarize(r.issues)}`);
  return r.output;
}

/** The parts of a sample that come from the telemetry script: counters are cumulative bytes. */
export interface WindowsCounters {
  interfaces: ByteCounters[];
  disk: ByteCounters;
  processCount: number;
  mounts: MountSample[];
  swapTotalBytes: number;
  swapUsedBytes: number;
}

function jsonOf(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UnexpectedOutputError(`${what}: not JSON: ${text.trim().slice(0, 200)}`);
  }
}

/** Parses TELEMETRY_SCRIPT's JSON; page file sizes arrive in MB and become bytes. */
export function parseTelemetryOutput(text: string): WindowsCounters {
  const o = checked(TelemetryOutput, text, "telemetry script");
  const mb = 1024 * 1024;
  return {
    interfaces: o.net.map((n) => ({ name: n.Name, inBytes: n.ReceivedBytes, outBytes: n.SentBytes })),
    disk: {
      name: "_Total",
      inBytes: o.disk[0]?.DiskReadBytesPersec ?? 0,
      outBytes: o.disk[0]?.DiskWriteBytesPersec ?? 0,
    },
    processCount: o.system[0]?.Processes ?? 0,
    mounts: o.volumes.flatMap((v) =>
      v.Size && v.Size > 0
        ? [
            {
              mount: clip(v.DeviceID, 512),
              fs: clip(v.FileSystem ?? "", 64),
              totalBytes: v.Size,
              usedBytes: Math.max(0, v.Size - (v.FreeSpace ?? 0)),
            },
          ]
        : [],
    ),
    swapTotalBytes: o.pagefiles.reduce((sum, p) => sum + p.AllocatedBaseSize * mb, 0),
    swapUsedBytes: o.pagefiles.reduce((sum, p) => sum + p.CurrentUsage * mb, 0),
  };
}

/** One PowerShell run for the facts the `os` module lacks: edition, version, BIOS serial, disks. */
export const FACTS_SCRIPT = `[pscustomobject]@{
  os = @(Get-CimInstance Win32_OperatingSystem | Select-Object Caption,Version)
  bios = @(Get-CimInstance Win32_BIOS | Select-Object SerialNumber)
  disks = @(Get-CimInstance Win32_DiskDrive | Select-Object DeviceID,Model,Size)
} | ConvertTo-Json -Compress -Depth 3`;

const FactsOutput = v.object({
  os: v.array(v.object({ Caption: v.string(), Version: v.string() })),
  bios: v.array(v.object({ SerialNumber: v.nullable(v.string()) })),
  disks: v.array(v.object({ DeviceID: v.string(), Model: v.nullable(v.string()), Size: v.nullable(v.number()) })),
});

/** Parses FACTS_SCRIPT's JSON: "Microsoft Windows 11 Pro", "10.0.22631", cleaned serial, disks in bytes. */
export function parseFactsOutput(text: string): Pick<DeviceFacts, "osName" | "osVersion" | "serialNumber" | "disks"> {
  const o = checked(FactsOutput, text, "facts script");
  const os = o.os[0];
  return {
    osName: clip(os?.Caption.trim() ?? "Windows", 128),
    osVersion: clip(os?.Version ?? "", 128),
    serialNumber: cleanSerial(o.bios[0]?.SerialNumber ?? ""),
    disks: o.disks.slice(0, 64).map((d) => {
      const disk = { name: clip(d.DeviceID.replace(/^\\\\\.\\/, ""), 128), sizeBytes: Math.max(0, d.Size ?? 0) };
      return d.Model ? { ...disk, model: clip(d.Model.trim(), 128) } : disk;
    }),
  };
}
