import type { PendingUpdate, SoftwareItem, UpdateSource } from "../../server/protocol/patch.ts";

/** A package manager the scan could not read, and why (`code` is stable: NOT_FOUND, COMMAND_FAILED, UNEXPECTED_OUTPUT). */
export interface ScanProblem {
  source: string;
  code: string;
  message: string;
}

/** What one OS's update sources report. */
export interface UpdateScan {
  sources: UpdateSource[];
  updates: PendingUpdate[];
  problems: ScanProblem[];
}

/** Output of an install as it happens. */
export type Emit = (stream: "stdout" | "stderr", text: string) => void;

/** How one update's install went. */
export interface InstallOutcome {
  ok: boolean;
  exitCode: number | null;
  error?: string;
}

/** What patching needs from an operating system (agent/platform/*-patch.ts, imported on first use). */
export interface PlatformPatch {
  /** Every installed program with its version, publisher and install time when known. */
  inventory(): Promise<{ items: SoftwareItem[]; problems: ScanProblem[] }>;
  /** Pending updates; `refresh` first updates the package lists (apt-get update, dnf makecache…). */
  pending(refresh: boolean): Promise<UpdateScan>;
  /** Installs one update at exactly this version, streaming the package manager's output. */
  install(u: { source: UpdateSource; name: string; version: string }, emit: Emit, timeoutMs: number): Promise<InstallOutcome>;
  /** True when the OS says a reboot is needed to finish what was installed. */
  rebootRequired(): Promise<boolean>;
}
