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

function engine(
  graceS: number,
  bus = new LocalBus(),
  timing: { intervalMs: number; fullEveryMs: number } = { intervalMs: 60_000, fullEveryMs: 30_000 },
) {
  const node = Bun.randomUUIDv7();
  return {
    node,
    bus,
    engine: new StatusEngine(sql, node, windows, new LiveHub(() => {}), bus, timing.intervalMs, 50, () => graceS, timing.fullEveryMs),
  };
}

/** A device on `node` in a given status whose telemetry and last contact are `agoS` seconds old. */
async function deviceAt(node: string, status: string, agoS: number): Promise<string> {
  const id = await device(sql, { ...org, onlineOn: node });
  const at = new Date(Date.now() - agoS * 1000);
  await sql`update devices set status = ${status}, last_seen_at = ${at} where id = ${id}`;
  await sql`update device_latest set time = ${at}, seen_at = ${at}, sort_seen = ${at} where device_id = ${id}`;
  return id;
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

  test("between full sweeps, a sweep looks only at devices whose telemetry or contact aged past a window lately", async () => {
    const e = engine(0, new LocalBus(), { intervalMs: 2000, fullEveryMs: 3_600_000 });
    await registerNode(sql, e.node, "node");
    await e.engine.sweep();
    expect(e.engine.sweepStats).toEqual({ sweeps: 1, full: 1 });

    // telemetry quiet for 35 s: inside the last 10 s (three 2 s sweeps, at least 10 s) of the 30 s online window
    const quiet = await deviceAt(e.node, "online", 35);
    // quiet for 35 s too, its sort copy of the contact refreshed 60 s before that (it lags by up to 30 s
    // plus a telemetry interval): found through the copy, judged on the contact itself
    const quietLagging = await deviceAt(e.node, "online", 35);
    await sql`update device_latest set sort_seen = now() - interval '95 seconds' where device_id = ${quietLagging}`;
    // quiet for 60 s: past that slice, a device a recent sweep does not see (only a skipped lock leaves one so)
    const missed = await deviceAt(e.node, "online", 60);
    // last contact 185 s ago, inside the last 10 s of the 180 s offline window: telemetry (its socket
    // opened long before) ...
    const silent = await deviceAt(e.node, "unresponsive", 185);
    await sql`update devices set last_seen_at = now() - interval '600 seconds' where id = ${silent}`;
    // ... or other contact (a beacon without samples, a socket opened), from a device that never sent any
    const noSamples = await device(sql, org);
    await sql`update devices set status = 'unresponsive', last_seen_at = now() - interval '185 seconds' where id = ${noSamples}`;
    const longSilent = await deviceAt(e.node, "unresponsive", 600);
    // offline although its socket is here and its telemetry fresh: no recent sweep looks at offline devices
    const stale = await deviceAt(e.node, "offline", 0);
    await e.engine.sweep();
    expect(e.engine.sweepStats).toEqual({ sweeps: 2, full: 1 });
    expect(await statusOf(quiet)).toBe("unresponsive");
    expect(await statusOf(quietLagging)).toBe("unresponsive");
    expect(await statusOf(silent)).toBe("offline");
    expect(await statusOf(noSamples)).toBe("offline");
    expect(await statusOf(missed)).toBe("online");
    expect(await statusOf(longSilent)).toBe("unresponsive");
    expect(await statusOf(stale)).toBe("offline");

    // the full sweep (here at every sweep) puts right what the recent ones leave
    const full = engine(0, new LocalBus(), { intervalMs: 2000, fullEveryMs: 0 });
    await registerNode(sql, full.node, "full");
    await full.engine.sweep();
    expect(full.engine.sweepStats).toEqual({ sweeps: 1, full: 1 });
    expect(await statusOf(missed)).toBe("unresponsive");
    expect(await statusOf(longSilent)).toBe("offline");
    expect(await statusOf(stale)).toBe("online");
  });

  test("sweeps in the reconnect window and the first one after it are full", async () => {
    const e = engine(0.3, new LocalBus(), { intervalMs: 60_000, fullEveryMs: 3_600_000 });
    await registerNode(sql, e.node, "node");
    e.engine.start();
    await e.engine.sweep();
    await e.engine.sweep();
    await Bun.sleep(350);
    await e.engine.sweep();
    await e.engine.sweep();
    e.engine.stop();
    expect(e.engine.sweepStats).toEqual({ sweeps: 4, full: 3 });
  });
});
