import type { EventBus } from "../events/bus.ts";
import type { Patches } from "./service.ts";
import { commandUpdates } from "./updates.store.ts";
import type { Sql } from "postgres";

/**
 * What patch management reacts to: an install command reaching its final state (`command.finished`)
 * settles its updates after a rescan of the device.
 */
export function patchReactions(bus: EventBus, sql: Sql, patches: Patches): void {
  bus.subscribe("command.finished", async (e) => {
    if (e.checkRuleId || (await commandUpdates(sql, e.commandId)) === 0) return;
    const failedLine = e.stdout.split("\n").find((l) => /^\[patch\] .*: failed/.test(l));
    await patches.settle(
      e.organizationId,
      e.deviceId,
      e.commandId,
      e.status === "succeeded",
      failedLine?.slice(8, 1000) ?? `the install ${e.status}`,
    );
  });
}
