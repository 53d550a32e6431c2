import { createSignal } from "solid-js";
import { api, call } from "./api.ts";
import type { Alert } from "./types.ts";

/** Bumped after each acknowledgement made here, so the nav badge recounts what still needs attention. */
const [acknowledgedAt, setAcknowledgedAt] = createSignal(0);
export { acknowledgedAt };

/** Acknowledges an alert and returns the updated row. */
export async function acknowledge(id: string): Promise<Alert> {
  const alert = await call(api.api.v1.alerts({ id }).acknowledge.post());
  setAcknowledgedAt(Date.now());
  return alert;
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
