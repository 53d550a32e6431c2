import { api, call } from "./api.ts";
import type { Alert } from "./types.ts";

/** Acknowledges an alert and returns the updated row. */
export function acknowledge(id: string): Promise<Alert> {
  return call(api.api.v1.alerts({ id }).acknowledge.post());
}

export const ALERT_TYPE_LABEL: Record<string, string> = {
  offline: "Offline",
  cpu: "CPU",
  cpu_percent: "CPU",
  memory: "Memory",
  memory_percent: "Memory",
  disk: "Disk",
  disk_free_percent: "Disk space",
};
