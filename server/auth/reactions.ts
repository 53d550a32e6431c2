import type { EventBus } from "../events/bus.ts";
import { forgetPrincipals } from "./plugin.ts";

/** What authentication reacts to: any state change made through the API empties every node's principal cache. */
export function authReactions(bus: EventBus): void {
  bus.subscribe("principals.changed", () => forgetPrincipals(), { nodes: "all" });
}
