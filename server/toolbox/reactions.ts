import type { Sql } from "postgres";
import type { EventBus } from "../events/bus.ts";
import { markWoken } from "./store.ts";

/** What the toolbox reacts to: a device coming online answers the wakes sent to it just before. */
export function toolboxReactions(bus: EventBus, sql: Sql): void {
  bus.subscribe("device.status", async (e) => {
    const online = e.changes.filter((c) => c.status === "online").map((c) => c.id);
    if (online.length > 0) await markWoken(sql, online, new Date(e.at));
  });
}
