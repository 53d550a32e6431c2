import type { DeviceFacts, TelemetrySample } from "../../server/protocol/telemetry.ts";
import type { PlatformPatch } from "../patch/types.ts";
import type { PlatformToolbox } from "../toolbox/types.ts";
import type { Released } from "./linux-pages.ts";

/** The operating systems the agent runs on, as the wire protocol names them. */
export type OsName = "linux" | "windows" | "darwin";

/**
 * Produces telemetry samples. It keeps the previous counters, so CPU percentages and byte rates
 * cover the time since the previous call; on the first call rates are 0 and CPU is since boot.
 * On Windows and macOS it runs commands, so collect() rejects with a coded error
 * (`command_failed`, `unexpected_output`) when one fails.
 */
export interface Collector {
  collect(): Promise<TelemetrySample>;
}

/** Files to write (mode is a Unix permission mask, ignored on Windows) and argv commands to run in order. */
export interface ServicePlan {
  files: { path: string; content: string; mode: number }[];
  commands: string[][];
}

/** Where the agent binary and its config live when registering the service. */
export interface ServicePaths {
  binaryPath: string;
  configPath: string;
}

/** When and how to announce a reboot or shutdown: delay in seconds, optional message to logged-in users. */
export interface PowerOptions {
  delaySeconds: number;
  message?: string;
}

/** Everything the agent needs that differs between operating systems. */
export interface Platform {
  os: OsName;
  createCollector(): Collector;
  /** Static host facts; slow (may spawn commands), so call it at start-up and enrollment only. */
  facts(): Promise<DeviceFacts>;
  defaultConfigPath(): string;
  installService(o: ServicePaths): ServicePlan;
  /** Removes the service registration; the binary and config stay. */
  uninstallService(o: ServicePaths): ServicePlan;
  powerCommand(action: "reboot" | "shutdown", o: PowerOptions): string[];
  /** The endpoint toolbox (processes, services, event logs, environment), imported on first use. */
  toolbox(): Promise<PlatformToolbox>;
  /** Software inventory, pending updates and installs (agent/platform/*-patch.ts), imported on first use. */
  patch(): Promise<PlatformPatch>;
  /** Hands pages the idle agent no longer uses back to the OS; absent where that is not done (Windows, macOS). */
  releasePages?(how: "evict" | "unmap"): Promise<Released>;
}
