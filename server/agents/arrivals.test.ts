import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres, { type Sql } from "postgres";
import { CommandDispatcher } from "../commands/service.ts";
import { LocalBus } from "../events/bus.ts";
import { LiveHub } from "../live/hub.ts";
import { setLogLevel } from "../log.ts";
import type { ServerFrame } from "../protocol/frames.ts";
import { StatusEngine } from "../status/engine.ts";
import { registerNode } from "../status/store.ts";
import { alert, command, device, facts, organization } from "../testing/fixtures.ts";
import { testSql } from "../testing/harness.ts";
import { Arrivals } from "./arrivals.ts";
import { AgentHub } from "./hub.ts";

setLogLevel("error");
let sql: Sql;
let org: { organizationId: string; siteId: string };
beforeAll(async () => {
  sql = await testSql();
  org = await organization(sql);
});
afterAll(() => sql.end());

function setup(db: Sql = sql) {
  const node = Bun.randomUUIDv7();
  const bus = new LocalBus();
  const live = new LiveHub(() => {});
  const agents = new AgentHub(() => ({ telemetryIntervalS: 5, beaconIntervalS: 60 }));
  const status = new StatusEngine(db, node, { onlineWindowS: 30, offlineAfterS: 180, nodeStaleS: 15 }, live, bus, 60_000, 20);
  const commands = new CommandDispatcher(db, agents, live, bus);
  const rotated: string[] = [];
  const arrivals = new Arrivals({ sql: db, nodeId: node, bus, agents, commands, status, rotate: (id) => void rotated.push(id) }, 20);
  const sent = new Map<string, ServerFrame[]>();
  const connect = (deviceId: string) => {
    const frames: ServerFrame[] = [];
    sent.set(deviceId, frames);
    agents.add({ deviceId, organizationId: org.organizationId, send: (f) => void frames.push(f), close: () => {} });
  };
  return { node, bus, agents, arrivals, rotated, sent, connect };
}

const row = async (id: string) =>
  (
    await sql<{ wsNode: string | null; hostname: string; agentVersion: string }[]>`
      select ws_node as "wsNode", hostname, agent_version as "agentVersion" from devices where id = ${id}`
  )[0];

describe("arrivals", () => {
  test("sockets opened together are recorded in one batch and each gets its last stored batch for its welcome", async () => {
    const a = setup();
    await registerNode(sql, a.node, "n");
    const ids = await Promise.all(Array.from({ length: 30 }, () => device(sql, org)));
    // one mark on its latest-state row, one still on the device row (no sample since migration 00047)
    await sql`
      insert into device_latest (device_id, organization_id, batch_seq, time, seen_at, cpu_percent, memory_percent, disk_percent,
        swap_percent, load1, network_rx_bps, network_tx_bps, uptime_seconds)
      select id, organization_id, 7, now() - interval '1 hour', now() - interval '1 hour', 0, 0, 0, 0, 0, 0, 0, 0
      from devices where id = ${ids[0]!}`;
    await sql`update devices set last_batch_seq = 5 where id = ${ids[1]!}`;
    for (const id of ids) a.connect(id);
    const marks = await Promise.all(ids.map((id) => a.arrivals.open(id)));
    expect(marks[0]).toBe(7);
    expect(marks[1]).toBe(5);
    expect(marks.slice(2).every((m) => m === 0)).toBe(true);
    expect(a.arrivals.stats).toMatchObject({ batches: 1, opened: 30 });
    for (const id of ids) expect((await row(id))?.wsNode).toBe(a.node);
  });

  test("a socket opened sets its device's status in the same statement: offline → unresponsive (its offline alert resolved), recent telemetry → online", async () => {
    const a = setup();
    await registerNode(sql, a.node, "n");
    const [wasOffline, recent, already] = await Promise.all([device(sql, org), device(sql, org), device(sql, org)]);
    const offlineAlert = await alert(sql, wasOffline!, { type: "offline" });
    await sql`update devices set status = 'unresponsive' where id = ${recent!}`;
    await sql`
      insert into device_latest (device_id, organization_id, time, seen_at, cpu_percent, memory_percent, disk_percent,
        swap_percent, load1, network_rx_bps, network_tx_bps, uptime_seconds)
      select id, organization_id, now() - interval '5 seconds', now() - interval '5 seconds', 0, 0, 0, 0, 0, 0, 0, 0
      from devices where id = ${recent!}`;
    await sql`update devices set status = 'unresponsive', last_seen_at = now() where id = ${already!}`;
    const published: { id: string; previous: string; status: string }[] = [];
    a.bus.subscribe(
      "device.status",
      (e) => void published.push(...e.changes.map(({ id, previous, status }) => ({ id, previous, status }))),
    );
    for (const id of [wasOffline!, recent!, already!]) a.connect(id);
    await Promise.all([wasOffline!, recent!, already!].map((id) => a.arrivals.open(id)));
    const statuses = await sql<{ id: string; status: string }[]>`
      select id, status from devices where id = any(${[wasOffline!, recent!, already!]}::uuid[])`;
    expect(Object.fromEntries(statuses.map((r) => [r.id, r.status]))).toEqual({
      [wasOffline!]: "unresponsive",
      [recent!]: "online",
      [already!]: "unresponsive",
    });
    const [resolved] = await sql<{ state: string }[]>`select state from alerts where id = ${offlineAlert}`;
    expect(resolved?.state).toBe("resolved");
    // only real changes go out: the device that was unresponsive already is not announced
    expect(published.sort((x, y) => x.id.localeCompare(y.id))).toEqual(
      [
        { id: wasOffline!, previous: "offline", status: "unresponsive" },
        { id: recent!, previous: "unresponsive", status: "online" },
      ].sort((x, y) => x.id.localeCompare(y.id)),
    );
  });

  test("hellos write facts in one statement, publish one device.changed, deliver pending commands and start due rotations", async () => {
    const a = setup();
    await registerNode(sql, a.node, "n");
    const ids = await Promise.all(Array.from({ length: 5 }, () => device(sql, org)));
    const queued = await command(sql, org.organizationId, ids[1]!, "queued");
    const changed: string[][] = [];
    a.bus.subscribe("device.changed", (e) => void changed.push(e.deviceIds));
    for (const id of ids) a.connect(id);
    for (const [i, id] of ids.entries()) a.arrivals.hello(id, `2.0.${i}`, facts(`renamed-${i}`), i === 3);
    await a.arrivals.settled();
    for (const [i, id] of ids.entries()) expect(await row(id)).toMatchObject({ hostname: `renamed-${i}`, agentVersion: `2.0.${i}` });
    expect(changed).toEqual([ids]);
    expect(a.sent.get(ids[1]!)?.map((f) => f.type)).toEqual(["command"]);
    expect((a.sent.get(ids[1]!)?.[0] as { data: { commandId: string } } | undefined)?.data.commandId).toBe(queued);
    expect(a.sent.get(ids[0]!)).toEqual([]);
    expect(a.rotated).toEqual([ids[3]!]);

    // a reconnect repeating the stored facts writes nothing and tells nobody; a changed one is written
    const stamps = async () =>
      (await sql<{ at: string }[]>`select updated_at::text as at from devices where id = any(${ids}::uuid[]) order by id`).map((r) => r.at);
    const before = await stamps();
    for (const [i, id] of ids.entries()) a.arrivals.hello(id, `2.0.${i}`, facts(`renamed-${i}`), false);
    a.arrivals.hello(ids[2]!, "2.0.2", facts("renamed-again"), false);
    await a.arrivals.settled();
    expect(changed).toEqual([ids, [ids[2]!]]);
    const after = await stamps();
    expect(after.filter((at, i) => at !== before[i]).length).toBe(1);
    expect((await row(ids[2]!))?.hostname).toBe("renamed-again");
  });

  test("one bad hello (facts the database refuses) does not lose the others' facts", async () => {
    const a = setup();
    const [good, bad] = await Promise.all([device(sql, org), device(sql, org)]);
    for (const id of [good!, bad!]) a.connect(id);
    a.arrivals.hello(good!, "3.0.0", facts("good-host"), false);
    a.arrivals.hello(bad!, "3.0.0", { ...facts("bad-host"), osName: "nul \u0000 byte" }, false);
    await a.arrivals.settled();
    expect((await row(good!))?.hostname).toBe("good-host");
    expect((await row(bad!))?.hostname).not.toBe("bad-host");
  });

  test("a close and a newer open of one device in the same batch leave it held; a close alone releases it", async () => {
    const a = setup();
    await registerNode(sql, a.node, "n");
    const [kept, gone] = await Promise.all([device(sql, org), device(sql, org)]);
    for (const id of [kept!, gone!]) a.connect(id);
    await Promise.all([a.arrivals.open(kept!), a.arrivals.open(gone!)]);
    // kept: its socket dropped and a new one came at once; gone: dropped for good
    a.arrivals.close(kept!);
    const reopened = a.arrivals.open(kept!);
    a.agents.remove(a.agents.get(gone!)!);
    a.arrivals.close(gone!);
    await reopened;
    await a.arrivals.settled();
    expect((await row(kept!))?.wsNode).toBe(a.node);
    expect((await row(gone!))?.wsNode).toBeNull();
  });

  test("when the socket cannot be recorded the welcome is refused (undefined), and later batches still run", async () => {
    const url = (sql as unknown as { options: { host: string[]; port: number[]; database: string; user: string; pass: string } }).options;
    const broken = postgres({ host: url.host[0], port: url.port[0], database: url.database, user: url.user, password: url.pass, max: 1 });
    await broken.end();
    const a = setup(broken);
    const id = await device(sql, org);
    a.connect(id);
    expect(await a.arrivals.open(id)).toBeUndefined();
    expect(await a.arrivals.open(id)).toBeUndefined();
    expect(a.arrivals.stats.batches).toBe(2);
  });
});
