import type { EventBus } from "../events/bus.ts";
import type { Notifier } from "./service.ts";

/** Every alert change (firing, resolved, flapping notices) goes to the channels its rule names. */
export function notificationReactions(bus: EventBus, notifier: Notifier): void {
  bus.subscribe("alert.changed", (e) => notifier.notify(e.organizationId, e.channelIds, e.alertId, e.event, e.message));
}
