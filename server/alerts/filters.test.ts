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
