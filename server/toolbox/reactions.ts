import type { Sql } from "postgres";
import type { AgentHub } from "../agents/hub.ts";
import { AppError } from "../errors.ts";
import type { EventBus } from "../events/bus.ts";
import { log } from "../log.ts";
import { Toolbox } from "./service.ts";
import { markWoken } from "./store.ts";
import { wakeThroughNeighbour } from "./wake-device.ts";

/** Devices a wake schedule wakes at once (each is one relay call with a 10 s deadline). */
const WAKE_CONCURRENCY = 16;

/**
 * What the toolbox reacts to: a device coming online answers the wakes sent to it just before; a wake
 * schedule's occurrence wakes its devices that are not online, each through a neighbour, recorded in
 * device_wakes with the schedule as the actor.
 */
export function toolboxReactions(bus: EventBus, sql: Sql, agents: AgentHub): void {
  const toolbox = new Toolbox(sql, agents);
  bus.subscribe("device.status", async (e) => {
    const online = e.changes.filter((c) => c.status === "online").map((c) => c.id);
    if (online.length > 0) await markWoken(sql, online, new Date(e.at));
  });
  bus.subscribe("schedule.wake", async (e) => {
    const actor = { type: "schedule" as const, id: e.scheduleId, name: e.scheduleName };
    const outcomes: Record<string, number> = {};
    for (let i = 0; i < e.deviceIds.length; i += WAKE_CONCURRENCY)
      await Promise.all(
        e.deviceIds.slice(i, i + WAKE_CONCURRENCY).map(async (deviceId) => {
          try {
            await wakeThroughNeighbour({ sql, agents, toolbox }, e.organizationId, actor, deviceId, null);
            outcomes.sent = (outcomes.sent ?? 0) + 1;
          } catch (err) {
            if (!(err instanceof AppError)) throw err;
            outcomes[err.code] = (outcomes[err.code] ?? 0) + 1;
          }
        }),
      );
    log("info", "scheduled wake", { scheduleId: e.scheduleId, devices: e.deviceIds.length, ...outcomes });
  });
}
