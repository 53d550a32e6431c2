import type { DeviceStatus } from "../lib/types.ts";

const LABEL: Record<DeviceStatus, string> = { online: "Online", unresponsive: "Unresponsive", offline: "Offline" };

/** Green online, amber unresponsive, red offline; the word is always shown, never colour alone. */
export function StatusBadge(props: { status: DeviceStatus }) {
  return (
    <span class={`status status-${props.status}`} data-testid="device-status" data-status={props.status}>
      {LABEL[props.status]}
    </span>
  );
}
