import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Sql } from "postgres";
import { LocalBus } from "../events/bus.ts";
import { LiveHub } from "../live/hub.ts";
import { setLogLevel } from "../log.ts";
import { device, organization } from "../testing/fixtures.ts";
import { testSql } from "../testing/harness.ts";
import { StatusEngine } from "./engine.ts";
import { registerNode, releaseNode } from "./store.ts";

setLogLevel("warn");
const windows = { onlineWindowS: 30, offlineAfterS: 180, nodeStaleS: 15 };
let sql: Sql;
let org: { organizationId: string; siteId: string };
beforeAll(async () => {
  sql = await testSql();
  org = await organization(sql);
});
afterAll(() => sql.end());

const statusOf = async (id: string) => (await sql<{ status: string }[]>`select status from devices where id = ${id}`)[0]?.status;

/** Devices online on a node that then went away cleanly (a restart): sockets released, contact recent. */
async function fleetOfRestartedNode(n: number): Promise<string[]> {
  const node = Bun.randomUUIDv7();
  await registerNode(sql, node, "old");
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await device(sql, { ...org, onlineOn: node }));
  await releaseNode(sql, node);
  return ids;
}

function engine(graceS: number, bus = new LocalBus()) {
  const node = Bun.randomUUIDv7();
  return { node, bus, engine: new StatusEngine(sql, node, windows, new LiveHub(() => {}), bus, 60_000, 50, () => graceS) };
}

describe("status engine", () => {
  test("after a restart, sweeps keep the fleet online for the reconnect window instead of flipping it to unresponsive and back", async () => {
    const ids = await fleetOfRestartedNode(3);
    const within = engine(60);
    await registerNode(sql, within.node, "new");
    within.engine.start();
    const changes: unknown[] = [];
    within.bus.subscribe("device.status", (e) => void changes.push(...e.changes));
    await within.engine.sweep();
    within.engine.stop();
    for (const id of ids) expect(await statusOf(id)).toBe("online");
    expect(changes).toEqual([]);

    // no grace (or once it has passed): the devices whose sockets are not back are unresponsive
    const after = engine(0);
    await registerNode(sql, after.node, "newer");
    after.engine.start();
    await after.engine.sweep();
    after.engine.stop();
    for (const id of ids) expect(await statusOf(id)).toBe("unresponsive");
  });

  test("the grace keeps nothing online that has been silent past the offline window, and touches ignore it", async () => {
    const [silent, closed] = await fleetOfRestartedNode(2);
    await sql`update devices set last_seen_at = now() - interval '10 minutes' where id = ${silent!}`;
    await sql`update device_latest set seen_at = now() - interval '10 minutes', time = now() - interval '10 minutes' where device_id = ${silent!}`;
    const e = engine(60);
    await registerNode(sql, e.node, "new");
    e.engine.start();
    await e.engine.sweep();
    expect(await statusOf(silent!)).toBe("offline");
    // a device touched (its socket closed or a beacon came) is judged on its facts: no socket here → unresponsive
    await e.engine.touch(closed!);
    expect(await statusOf(closed!)).toBe("unresponsive");
    e.engine.stop();
  });

  test("touches are gathered: many devices in one transaction and one device.status event", async () => {
    const e = engine(0);
    await registerNode(sql, e.node, "node");
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await device(sql, { ...org, onlineOn: e.node }));
    await sql`update devices set status = 'offline' where id = any(${ids}::uuid[])`;
    const events: number[] = [];
    e.bus.subscribe("device.status", (ev) => void events.push(ev.changes.length));
    await Promise.all(ids.map((id) => e.engine.touch(id)));
    for (const id of ids) expect(await statusOf(id)).toBe("online");
    expect(e.engine.touchStats).toEqual({ batches: 1, devices: 20 });
    expect(events).toEqual([20]);
    // idle() waits for a batch still gathering
    await sql`update devices set ws_node = null where id = ${ids[0]!}`;
    void e.engine.touch(ids[0]!);
    await e.engine.idle();
    expect(await statusOf(ids[0]!)).toBe("unresponsive");
    e.engine.stop();
  });
});
