import { type } from "arktype";

/** One mounted filesystem: sizes in bytes. */
export const MountSample = type({
  mount: "string <= 512",
  fs: "string <= 64",
  totalBytes: "number >= 0",
  usedBytes: "number >= 0",
  "inodesTotal?": "number >= 0",
  "inodesUsed?": "number >= 0",
});
export type MountSample = typeof MountSample.infer;

/** One network interface: rates in bytes per second since the previous sample. */
export const InterfaceSample = type({
  name: "string <= 64",
  rxBps: "number >= 0",
  txBps: "number >= 0",
});
export type InterfaceSample = typeof InterfaceSample.infer;

/**
 * One telemetry sample as the agent collects it. Percentages are 0–100, sizes in bytes,
 * rates in bytes per second, `time` is the collection instant (ISO-8601 UTC).
 */
export const TelemetrySample = type({
  time: "string.date.iso",
  cpuPercent: "0 <= number <= 100",
  cpuPerCore: "(0 <= number <= 100)[] <= 1024",
  load: ["number >= 0", "number >= 0", "number >= 0"],
  memoryTotalBytes: "number >= 0",
  memoryUsedBytes: "number >= 0",
  swapTotalBytes: "number >= 0",
  swapUsedBytes: "number >= 0",
  mounts: MountSample.array().atMostLength(128),
  diskReadBps: "number >= 0",
  diskWriteBps: "number >= 0",
  interfaces: InterfaceSample.array().atMostLength(256),
  uptimeSeconds: "number >= 0",
  processCount: "number.integer >= 0",
});
export type TelemetrySample = typeof TelemetrySample.infer;

/** Static facts about a host, sent in the hello frame and at enrollment. */
export const DeviceFacts = type({
  hostname: "1 <= string <= 255",
  os: "'linux' | 'windows' | 'darwin'",
  osName: "string <= 128",
  osVersion: "string <= 128",
  kernel: "string <= 128",
  arch: "string <= 32",
  cpuModel: "string <= 256",
  cpuCores: "number.integer >= 0",
  memoryTotalBytes: "number >= 0",
  serialNumber: "string <= 128",
  nics: type({
    name: "string <= 64",
    mac: "string <= 64",
    addresses: "(string <= 64)[] <= 32",
    /** The same addresses with their prefix length ("10.0.0.5/24"), for subnets (Wake-on-LAN neighbours); agents before it omit it. */
    "cidrs?": "(string <= 64)[] <= 32",
  })
    .array()
    .atMostLength(64),
  disks: type({
    name: "string <= 128",
    sizeBytes: "number >= 0",
    "model?": "string <= 128",
  })
    .array()
    .atMostLength(64),
});
export type DeviceFacts = typeof DeviceFacts.infer;
