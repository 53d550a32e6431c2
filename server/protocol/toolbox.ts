import { type } from "arktype";
import {
  IPV4_PATTERN,
  LOG_TEXT_PATTERN,
  MAC_PATTERN,
  MAX_COMMAND_CHARS,
  MAX_ENV_VARS,
  MAX_LOG_EVENTS,
  MAX_MESSAGE_CHARS,
  MAX_PID,
  MAX_PROCESSES,
  MAX_SERVICES,
  SERVICE_NAME_PATTERN,
} from "./toolbox-limits.ts";

export * from "./toolbox-limits.ts";

/**
 * The endpoint toolbox on the wire: what the server asks of an agent in a `toolbox` call frame
 * (answered by a `result` frame) and the shapes of the answers. Every string that reaches a
 * command on the endpoint has a strict pattern here, checked by the server's routes and again by
 * the agent (its valibot copy is generated from these schemas); the agent runs argument vectors only.
 */

/** Signals a technician may send on Linux and macOS (Windows only terminates). */
export const Signal = type("'TERM' | 'KILL' | 'INT' | 'HUP' | 'QUIT' | 'STOP' | 'CONT' | 'USR1' | 'USR2'");
export type Signal = typeof Signal.infer;

export const ServiceName = type(new RegExp(SERVICE_NAME_PATTERN)).configure({
  description: "a service name: letters, digits, spaces and _ . : @ + - (not starting with a space, dot or dash)",
});
export const ServiceAction = type("'start' | 'stop' | 'restart' | 'enable' | 'disable'");
export type ServiceAction = typeof ServiceAction.infer;

export const LogText = type(new RegExp(LOG_TEXT_PATTERN)).configure({
  description: "search text: letters, digits, spaces and _ . , : = @ / + # % - (at most 200)",
});
/** The least severe level to show: `error` (and worse), `warning` (and worse), or `info` (everything but debug). */
export const LogLevel = type("'error' | 'warning' | 'info'");
export type LogLevel = typeof LogLevel.infer;
/** Windows event logs the toolbox reads. */
export const WindowsLog = type("'System' | 'Application'");

/** What a `toolbox` call asks of the agent, by `op`. */
export const ToolboxRequest = type({ op: "'processes'" })
  .or({ op: "'kill'", pid: `1 <= number.integer <= ${MAX_PID}`, signal: Signal, tree: "boolean" })
  .or({
    op: "'services'",
    /** Only these services (by name; Windows also by display name), each checked alone: what the health watch asks. Added in session 5; older agents list all. */
    "names?": ServiceName.array().atMostLength(32),
  })
  .or({ op: "'service_action'", name: ServiceName, action: ServiceAction })
  .or({
    op: "'event_logs'",
    level: LogLevel,
    limit: `1 <= number.integer <= ${MAX_LOG_EVENTS}`,
    /** Epoch ms bounds. */
    "since?": "number.integer >= 0",
    "until?": "number.integer >= 0",
    "q?": LogText,
    "unit?": ServiceName,
    "log?": WindowsLog,
  })
  .or({ op: "'environment'" })
  .or({ op: "'health'" })
  .or({
    op: "'wake'",
    /** The sleeping machine's MAC addresses. */
    macs: type(new RegExp(MAC_PATTERN)).array().moreThanLength(0).atMostLength(8),
    /** Subnet-directed broadcast addresses to send the magic packet to. */
    broadcasts: type(new RegExp(IPV4_PATTERN)).array().moreThanLength(0).atMostLength(8),
    port: "7 | 9",
  });
export type ToolboxRequest = typeof ToolboxRequest.infer;

export const ProcessInfo = type({
  pid: "number.integer >= 0",
  ppid: "number.integer >= 0",
  name: "string <= 256",
  user: "string <= 256",
  /** Share of one core since the previous list (top's convention: may exceed 100 on several cores). */
  cpuPercent: "number >= 0",
  /** Resident memory. */
  memoryBytes: "number >= 0",
  command: `string <= ${MAX_COMMAND_CHARS}`,
  /** Epoch ms, null when the OS does not say. */
  startedAt: "number | null",
});
export type ProcessInfo = typeof ProcessInfo.infer;
export const ProcessList = type({ items: ProcessInfo.array().atMostLength(MAX_PROCESSES), truncated: "boolean" });
export type ProcessList = typeof ProcessList.infer;

export const KillResult = type({ killed: "(number.integer >= 0)[] <= 10000", name: "string <= 256" });
export type KillResult = typeof KillResult.infer;

const ServiceManager = type("'systemd' | 'sysv' | 'windows' | 'launchd'");

export const ServiceState = type("'running' | 'stopped' | 'failed' | 'starting' | 'stopping' | 'unknown'");
export type ServiceState = typeof ServiceState.infer;
export const StartupType = type("'auto' | 'manual' | 'disabled' | 'unknown'");
export type StartupType = typeof StartupType.infer;
export const ServiceInfo = type({
  name: "string <= 256",
  displayName: "string <= 512",
  description: "string <= 1024",
  state: ServiceState,
  startup: StartupType,
  pid: "number.integer | null",
});
export type ServiceInfo = typeof ServiceInfo.infer;
export const ServiceList = type({
  manager: ServiceManager,
  items: ServiceInfo.array().atMostLength(MAX_SERVICES),
  "truncated?": "boolean",
});
export type ServiceList = typeof ServiceList.infer;
export const ServiceActionResult = type({ manager: ServiceManager, service: ServiceInfo.or("null") });
export type ServiceActionResult = typeof ServiceActionResult.infer;

export const EventLevel = type("'critical' | 'error' | 'warning' | 'info' | 'debug'");
export type EventLevel = typeof EventLevel.infer;
export const EventEntry = type({
  /** Epoch ms. */
  time: "number",
  level: EventLevel,
  source: "string <= 256",
  message: `string <= ${MAX_MESSAGE_CHARS}`,
  "pid?": "number.integer",
  "eventId?": "number.integer",
});
export type EventEntry = typeof EventEntry.infer;
export const EventLogList = type({
  source: "'journal' | 'windows' | 'unified'",
  items: EventEntry.array().atMostLength(MAX_LOG_EVENTS),
  /** True when more matching events are older than the last one returned. */
  more: "boolean",
});
export type EventLogList = typeof EventLogList.infer;

export const EnvVar = type({
  scope: "'system' | 'process' | 'user'",
  /** The user a per-user variable belongs to (Windows). */
  "user?": "string <= 256",
  key: "string <= 256",
  value: "string <= 8192",
});
export type EnvVar = typeof EnvVar.infer;
export const EnvironmentList = type({ items: EnvVar.array().atMostLength(MAX_ENV_VARS), "truncated?": "boolean" });
export type EnvironmentList = typeof EnvironmentList.infer;

export const WakeResult = type({ sent: "number.integer >= 0" });
export type WakeResult = typeof WakeResult.infer;

/** A temperature (°C), fan speed (RPM) or voltage (V) reading of a hardware monitor chip. */
const SensorReading = type({
  chip: "string <= 128",
  label: "string <= 128",
  kind: "'temperature' | 'fan' | 'voltage'",
  value: "number",
  "max?": "number",
  "critical?": "number",
});
/** One disk's S.M.A.R.T. summary; null where the drive does not report it. */
export const DiskHealth = type({
  device: "string <= 256",
  model: "string <= 256",
  serial: "string <= 128",
  protocol: "string <= 32",
  /** smartctl's overall assessment: false means the drive predicts its own failure. */
  passed: "boolean | null",
  temperatureC: "number | null",
  reallocatedSectors: "number | null",
  pendingSectors: "number | null",
  /** Share of the rated endurance used (NVMe "percentage used"), %. */
  wearPercent: "number | null",
  mediaErrors: "number | null",
  powerOnHours: "number | null",
});
export type DiskHealth = typeof DiskHealth.infer;
const BatteryHealth = type({
  name: "string <= 128",
  status: "string <= 64",
  chargePercent: "number | null",
  /** Full capacity now against the design capacity, %. */
  healthPercent: "number | null",
  cycleCount: "number | null",
});
/** An antivirus product: whether it runs, real-time protection, and how old its definitions are. */
export const AntivirusStatus = type({
  product: "string <= 128",
  /** The engine or service runs (null: cannot tell). */
  enabled: "boolean | null",
  realTime: "boolean | null",
  definitions: "string <= 128 | null",
  /** Epoch ms of the definitions' release, null when unknown or missing. */
  definitionsUpdatedAt: "number | null",
  /** Definitions missing or older than three days. */
  outdated: "boolean",
});
export type AntivirusStatus = typeof AntivirusStatus.infer;
export const HealthReport = type({
  sensors: SensorReading.array().atMostLength(512),
  antivirus: AntivirusStatus.array().atMostLength(16),
  disks: DiskHealth.array().atMostLength(64),
  batteries: BatteryHealth.array().atMostLength(8),
  /** What could not be read and why (smartctl missing, no sensors on this OS…). */
  notes: "(string <= 512)[] <= 32",
});
export type HealthReport = typeof HealthReport.infer;
