import type { EventBus } from "../events/bus.ts";
import type { Automation, AutomationEvent } from "./service.ts";

/** What starts workflows: alerts firing or resolved, devices going offline or coming back, and schedules. */
export function automationReactions(bus: EventBus, automation: Automation): void {
  bus.subscribe("alert.changed", (e) => {
    if (e.event === "alert.flapping" || e.event === "alert.stable") return; // notices: no workflows
    return automation.handle({
      organizationId: e.organizationId,
      deviceId: String(e.message.alert.deviceId),
      event: e.event,
      alertId: e.alertId,
      alertType: String(e.message.alert.type),
      summary: e.message.subject,
    });
  });
  bus.subscribe("device.status", async (e) => {
    // the workflows looked up once per organization and kind of change, not per device
    const groups = new Map<string, AutomationEvent[]>();
    for (const c of e.changes) {
      if (c.status !== "offline" && c.previous !== "offline") continue;
      const event = c.status === "offline" ? "device.offline" : "device.online";
      const key = `${c.organizationId}:${event}`;
      const group = groups.get(key) ?? [];
      group.push({
        organizationId: c.organizationId,
        deviceId: c.id,
        event,
        summary: `${c.hostname} is ${c.status === "offline" ? "offline" : "back"}`,
      });
      groups.set(key, group);
    }
    for (const group of groups.values()) await automation.handleAll(group);
  });
  bus.subscribe("schedule.due", (e) => automation.runScheduled(e.organizationId, e.workflowId, e.deviceIds, e.scheduleName));
}
