import type { EventBus } from "../events/bus.ts";
import type { GroupEngine } from "./engine.ts";

/**
 * What smart groups react to: stored telemetry and status changes (the devices' snapshots), device
 * changes (facts at hello, tags, site, deletion) and group changes (the organization's groups are
 * recompiled and every device there re-evaluated). The engine's work is returned, so `bus.settled()`
 * waits for it.
 */
export function groupReactions(bus: EventBus, groups: GroupEngine): void {
  bus.subscribe("telemetry.stored", (e) => groups.telemetryStored(e.samples));
  bus.subscribe("device.status", (e) => groups.statusChanged(e.changes));
  bus.subscribe("device.changed", (e) => groups.devicesChanged(e.deviceIds));
  bus.subscribe("group.changed", (e) => groups.groupChanged(e.organizationId));
  // the node where it changed re-evaluated and wrote the membership; the others drop what they cached
  bus.subscribe("group.changed", (e) => groups.forget({ organizationId: e.organizationId }), { nodes: "others" });
  bus.subscribe("device.changed", (e) => groups.forget({ deviceIds: e.deviceIds }), { nodes: "others" });
}
