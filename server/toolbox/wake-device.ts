import type { Sql } from "postgres";
import type { AgentHub } from "../agents/hub.ts";
import type { Actor } from "../audit/actor.ts";
import { AppError, Conflict, NotFound } from "../errors.ts";
import { WakeResult } from "../protocol/toolbox.ts";
import type { Toolbox } from "./service.ts";
import { recordWake, wakeCandidates } from "./store.ts";
import { neighbours, wakeTargets } from "./wake.ts";

/**
 * Wakes one device of the organization through the first of up to three neighbours that
 * answers, on behalf of `actor` (a user, an API key, a schedule); every attempt is kept in
 * device_wakes. Coded errors: ALREADY_ONLINE, NO_WAKE_ADDRESS, NO_NEIGHBOUR, or the relay's failure.
 */
export async function wakeThroughNeighbour(
  s: { sql: Sql; agents: AgentHub; toolbox: Toolbox },
  organizationId: string,
  actor: Actor,
  deviceId: string,
  ip: string | null,
) {
  const { target, online } = await wakeCandidates(s.sql, organizationId, deviceId);
  if (!target) throw new NotFound("DEVICE_NOT_FOUND", "no such device in your organization");
  if (target.status === "online") throw new Conflict("ALREADY_ONLINE", "the device is online");
  const { macs, subnets } = wakeTargets(target);
  const record = (relayDeviceId: string | null, broadcasts: string[], outcome: string) =>
    recordWake(s.sql, { organizationId, deviceId, relayDeviceId, actor, macs, broadcasts, outcome });
  if (macs.length === 0 || subnets.length === 0) {
    await record(null, [], "NO_WAKE_ADDRESS");
    throw new Conflict("NO_WAKE_ADDRESS", "the device never reported a MAC address with an IPv4 subnet");
  }
  // a relay must be connected (to this node or, in a cluster, any node) and in one of the target's subnets
  const relays = neighbours(subnets, online).filter((n) => s.agents.isConnected(n.device.id));
  if (relays.length === 0) {
    await record(null, [], "NO_NEIGHBOUR");
    throw new Conflict("NO_NEIGHBOUR", "no online device shares a subnet with this one");
  }
  let last: unknown;
  for (const relay of relays.slice(0, 3)) {
    const { id: relayDeviceId, hostname: relayHostname } = relay.device;
    const details = { relayDeviceId, relayHostname, macs, broadcasts: relay.broadcasts };
    try {
      const r = await s.toolbox.act(
        { organizationId, deviceId, actor, ip, action: "device.wake", details, via: relayDeviceId },
        { op: "wake", macs, broadcasts: relay.broadcasts, port: 9 },
        WakeResult,
        (w) => ({ sent: w.sent }),
      );
      await record(relayDeviceId, relay.broadcasts, "sent");
      return { ...details, sent: r.sent };
    } catch (err) {
      await record(relayDeviceId, relay.broadcasts, err instanceof AppError ? err.code : "FAILED");
      last = err;
    }
  }
  throw last;
}
