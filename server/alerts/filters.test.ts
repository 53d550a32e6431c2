import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { alert, enrollDevice } from "../testing/fixtures.ts";
import { startTestServer, type TestServer } from "../testing/harness.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
}, 120_000);
afterAll(() => srv.stop());

const hostsOf = async (query: string) =>
  ((await (await srv.api(`/api/v1/alerts?${query}`)).json()) as { items: { deviceHostname: string }[] }).items
    .map((a) => a.deviceHostname)
    .sort();

describe("alert list filters: tag, site, client, smart group", () => {
  test("each narrows to the alerts of the devices it names; bad values are 422", async () => {
    const clientB = ((await (await srv.api("/api/v1/clients", { body: { name: "Alerts B" } })).json()) as { id: string }).id;
    const siteB = ((await (await srv.api("/api/v1/sites", { body: { clientId: clientB, name: "B" } })).json()) as { id: string }).id;
    const web = await enrollDevice(srv, "al-web", ["role=web"]);
    const db = await enrollDevice(srv, "al-db", ["role=db"], siteB);
    await alert(srv.sql, web.deviceId, { type: "cpu_high" });
    await alert(srv.sql, db.deviceId, { type: "cpu_high" });
    const group = await srv.api("/api/v1/groups", { body: { name: "Alert dbs", expression: 'tag.role = "db"' } });
    const groupId = ((await group.json()) as { id: string }).id;
    await srv.server.services.bus.settled();

    expect(await hostsOf("tag=role%3Dweb")).toEqual(["al-web"]);
    expect(await hostsOf(`siteId=${siteB}`)).toEqual(["al-db"]);
    expect(await hostsOf(`clientId=${clientB}`)).toEqual(["al-db"]);
    expect(await hostsOf(`groupId=${groupId}`)).toEqual(["al-db"]);
    expect(await hostsOf(`groupId=${crypto.randomUUID()}`)).toEqual([]);
    for (const bad of ["siteId=1", "clientId=x", "groupId=%27%3B--", `tag=${"x".repeat(200)}`])
      expect([bad, (await srv.api(`/api/v1/alerts?${bad}`)).status]).toEqual([bad, 422]);
  });
});

describe("alert list: paging and counting", () => {
  test("newest first, every alert once across pages; the first page's count rides in the cursor; past 10,000 the count says so", async () => {
    const d = await enrollDevice(srv, "al-many");
    // 10,020 alerts of one device, one a second (a long history of a flapping check)
    await srv.sql`
      insert into alerts (organization_id, device_id, type, severity, state, message, created_at)
      select organization_id, id, 'cpu_high', 'warning', 'resolved', 'cpu ' || g, now() - make_interval(secs => g)
      from devices, generate_series(1, 10020) g where id = ${d.deviceId}`;
    type Page = { items: { id: string; message: string }[]; nextCursor: string | null; total: number; totalExact: boolean };
    const get = async (q: string) => (await (await srv.api(`/api/v1/alerts?deviceId=${d.deviceId}&${q}`)).json()) as Page;
    const first = await get("limit=100");
    expect([first.total, first.totalExact]).toEqual([10_000, false]);
    expect(first.items.map((a) => a.message).slice(0, 3)).toEqual(["cpu 1", "cpu 2", "cpu 3"]);
    const second = await get(`limit=100&cursor=${first.nextCursor}`);
    expect([second.total, second.totalExact]).toEqual([10_000, false]);
    expect(second.items[0]?.message).toBe("cpu 101");
    // an exact count when few match, and a two-part cursor from before still pages
    const few = await get("limit=2&state=firing");
    expect([few.total, few.totalExact]).toEqual([0, true]);
    const last = first.items.at(-1)!;
    const [createdAt] = Buffer.from(first.nextCursor!, "base64url").toString().split("|");
    const old = await get(`limit=100&cursor=${Buffer.from(`${createdAt}|${last.id}`).toString("base64url")}`);
    expect(old.items[0]?.message).toBe("cpu 101");
    expect([old.total, old.totalExact]).toEqual([10_000, false]);
  });
});
