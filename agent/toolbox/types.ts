import type {
  EnvironmentList,
  EventLogList,
  HealthReport,
  LogLevel,
  ServiceAction,
  ServiceActionResult,
  ServiceList,
  Signal,
} from "../../server/protocol/toolbox.ts";

/** A failure the server maps to a clear answer: `code` is stable (NO_SUCH_PROCESS, NO_SUCH_SERVICE, …). */
export class ToolboxError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * One process as the OS reports it. CPU is either cumulative (`cpuTimeMs`, turned into a share by
 * comparing two lists) or already a share (`cpuPercent`, macOS `ps`).
 */
export interface ProcessSnapshot {
  pid: number;
  ppid: number;
  name: string;
  user: string;
  memoryBytes: number;
  command: string;
  startedAt: number | null;
  cpuTimeMs?: number;
  cpuPercent?: number;
}

/** Filters of an event log read; times are epoch ms. */
export interface EventQuery {
  level: LogLevel;
  limit: number;
  since?: number;
  until?: number;
  q?: string;
  unit?: string;
  log?: "System" | "Application";
}

/** What the toolbox needs from an operating system (loaded on first use, see Platform.toolbox). */
export interface PlatformToolbox {
  processes(): Promise<ProcessSnapshot[]>;
  /** Sends the signal to each pid in order (Windows terminates; `tree` lets taskkill take the children). */
  kill(pids: number[], signal: Signal): Promise<number[]>;
  /** Every service, or only those named (each checked alone, which is cheaper than a whole list). */
  services(names?: readonly string[]): Promise<ServiceList>;
  serviceAction(name: string, action: ServiceAction): Promise<ServiceActionResult>;
  eventLogs(q: EventQuery): Promise<EventLogList>;
  environment(): Promise<EnvironmentList>;
  /** Sensors, S.M.A.R.T. and batteries, with notes on what could not be read. */
  health(): Promise<HealthReport>;
}
