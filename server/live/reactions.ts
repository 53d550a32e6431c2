import type { EventBus } from "../events/bus.ts";
import type { LiveHub } from "./hub.ts";

/** What dashboards see of other capabilities' events: the live telemetry of devices someone watches. */
export function liveReactions(bus: EventBus, live: LiveHub): void {
  // a dashboard limited to clients or groups follows its reach: devices placed, moved or re-grouped
  bus.subscribe("device.changed", () => live.refreshReaches(), { nodes: "all" });
  bus.subscribe("group.membership", () => live.refreshReaches(), { nodes: "all" });
  bus.subscribe("telemetry.stored", (e) => {
    for (const { deviceId, organizationId, sample, summary } of e.samples) {
      if (!live.isWatched(deviceId)) continue;
      live.publish(organizationId, {
        type: "device.telemetry",
        deviceId,
        point: {
          time: sample.time,
          cpuPercent: sample.cpuPercent,
          memoryPercent: summary.memoryPercent,
          diskPercent: summary.diskPercent,
          swapPercent: summary.swapPercent,
          load1: sample.load[0],
          networkRxBps: summary.networkRxBps,
          networkTxBps: summary.networkTxBps,
        },
      });
    }
  });
}
