import type { EventBus } from "../events/bus.ts";
import type { FileTransfers } from "./transfers.ts";

/** What file transfers react to: a site's bandwidth cap changed (on any node) → running transfers take it at once. */
export function fileReactions(bus: EventBus, transfers: Pick<FileTransfers, "forgetCaps">): void {
  bus.subscribe("site.changed", () => transfers.forgetCaps(), { nodes: "all" });
}
