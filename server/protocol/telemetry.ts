import { type } from "arktype";

/*
 * Every number is bounded to what its column holds (bigint bytes, real loads, integer counts): one
 * out-of-range value would fail the COPY of a whole flush, every device's batches in it.
 */
/** A size in bytes: a whole JavaScript number (below 2^53, inside bigint). */
const Bytes = "0 <= number <= 9007199254740991";
/** A rate in bytes per second (a petabyte per second is beyond any interface). */
const Rate = "0 <= number <= 1000000000000000";

/** One mounted filesystem: sizes in bytes. */
export const MountSample = type({
  mount: "string <= 512",
  fs: "string <= 64",
  totalBytes: Bytes,
  usedBytes: Bytes,
  "inodesTotal?": Bytes,
  "inodesUsed?": Bytes,
});
export type MountSample = typeof MountSample.infer;

/** One network interface: rates in bytes per second since the previous sample. */
export const InterfaceSample = type({
  name: "string <= 64",
  rxBps: Rate,
  txBps: Rate,
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
  load: ["0 <= number <= 1000000", "0 <= number <= 1000000", "0 <= number <= 1000000"],
  memoryTotalBytes: Bytes,
  memoryUsedBytes: Bytes,
  swapTotalBytes: Bytes,
  swapUsedBytes: Bytes,
  mounts: MountSample.array().atMostLength(128),
  diskReadBps: Rate,
  diskWriteBps: Rate,
  interfaces: InterfaceSample.array().atMostLength(256),
  uptimeSeconds: "0 <= number <= 10000000000",
  processCount: "0 <= number.integer <= 100000000",
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
  cpuCores: "0 <= number.integer <= 1000000",
  memoryTotalBytes: Bytes,
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
    sizeBytes: Bytes,
    "model?": "string <= 128",
  })
    .array()
    .atMostLength(64),
});
export type DeviceFacts = typeof DeviceFacts.infer;
