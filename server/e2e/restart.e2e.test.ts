import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { enrollRealAgent, type EnrolledAgent } from "../testing/agents.ts";
import { startTestServer, type TestServer, waitFor } from "../testing/harness.ts";

let srv: TestServer | undefined;
let agent: EnrolledAgent | undefined;
afterAll(async () => {
  await agent?.stop();
  await srv?.stop();
});

const settings = { telemetryIntervalS: 1, beaconIntervalS: 5, onlineWindowS: 4, offlineAfterS: 30 };

describe("a server restart while an agent runs", () => {
  test("loses no telemetry sample and stores none twice (counted by batch sequence)", async () => {
    srv = await startTestServer(settings);
    const { port, databaseUrl } = srv;
    agent = await enrollRealAgent(srv);
    const id = agent.deviceId;
    agent.start();
    const rows = async (s: TestServer) =>
      (await s.sql<{ n: number }[]>`select count(*)::int as n from device_telemetry where device_id = ${id}`)[0]?.n ?? 0;
    await waitFor("some telemetry", async () => (await rows(srv!)) >= 4, 30_000);

    const before = await rows(srv);
    await srv.stop();
    srv = undefined;
    await Bun.sleep(4000); // the agent keeps sampling into its spool meanwhile
    srv = await startTestServer({ ...settings, port }, databaseUrl);
    const s = srv;
    await waitFor("reconnected", async () => (await s.sql`select status from devices where id = ${id}`)[0]?.status === "online", 30_000);
    // the spooled outage samples and a few new ones (a gap below would mean some were lost)
    await waitFor("outage samples delivered", async () => (await rows(s)) >= before + 6, 30_000);
    await agent.stop();
    await s.server.services.ingest.drain();

    const [stats] = await s.sql<{ n: number; distinct: number; lo: number; hi: number }[]>`
      select count(*)::int as n, count(distinct batch_seq)::int as distinct, min(batch_seq)::int as lo, max(batch_seq)::int as hi
      from device_telemetry where device_id = ${id}`;
    const spooled = readdirSync(join(dirname(agent.configPath), "spool")).filter((f) => /^\d+\.json$/.test(f)).length;
    // one sample per batch: no duplicates, and no gap between the first and last stored batch
    expect(stats!.n).toBe(stats!.distinct);
    expect(stats!.hi - stats!.lo + 1).toBe(stats!.n);
    expect(stats!.n).toBeGreaterThanOrEqual(before + 6);
    // whatever was still unacknowledged at the very end is on disk, not lost
    expect(spooled).toBeLessThanOrEqual(2);
  });
});
