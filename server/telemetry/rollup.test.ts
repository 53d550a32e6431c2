import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sendBeacon } from "../../agent/transport/beacon.ts";
import { enrollDevice, sample } from "../testing/fixtures.ts";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { telemetryJobs } from "./store.ts";

// The native engine's rollup against a real server: late samples from a replayed spool (sent
// with the agent's own beacon client) and device deletion.

let srv: TestServer;
const HOUR = 3600_000;

/** A device enrolled through the API, with no agent process behind it. */
const newDevice = () => enrollDevice(srv, `host-${crypto.randomUUID().slice(0, 8)}`);

/** The start of the hour (UTC) `days` days ago, plus `minutes`. */
function hourAgo(days: number, minutes = 0): Date {
  const t = Date.now() - days * 24 * HOUR;
  return new Date(t - (t % HOUR) + minutes * 60_000);
}

const rollupRows = async (deviceId: string) =>
  srv.sql<{ bucket: Date; samples: number; cpu: number }[]>`
    select bucket, samples::int as samples, cpu_percent::float8 as cpu from device_telemetry_1h
    where device_id = ${deviceId} order by bucket`;

beforeAll(async () => {
  srv = await startTestServer();
}, 120_000);
afterAll(() => srv.stop());

describe("late samples (native engine)", () => {
  test("samples 2 to 6 days old, replayed after the rollup ran, reach the hourly rollup and the long-range API", async () => {
    const d = await newDevice();
    const jobs = telemetryJobs(srv.sql, srv.server.services.engine);
    expect(srv.server.services.engine).toBe("native");
    await jobs.run();
    // a spool replay: one batch per day, two samples in one hour of each day, plus a current one
    const late = [2, 3, 4, 5, 6].map((days) => hourAgo(days));
    const batches = late.map((hour, i) => ({
      seq: i + 1,
      samples: [sample(new Date(hour.getTime() + 5 * 60_000), 10), sample(new Date(hour.getTime() + 35 * 60_000), 30)],
    }));
    batches.push({ seq: 6, samples: [sample(new Date(Date.now() - 60_000), 50)] });
    const res = await sendBeacon(srv.url, d.deviceId, d.secret, "1.0.0", batches);
    expect(res.ackedSeq).toBe(6);

    // recorded with the samples (so a restart before the job runs loses nothing); the current one is not late
    const pending = await srv.sql<{ bucket: Date }[]>`
      select bucket from telemetry_rollup_pending where device_id = ${d.deviceId} order by bucket`;
    expect(pending.map((p) => p.bucket.getTime())).toEqual([...late].reverse().map((h) => h.getTime()));
    expect((await rollupRows(d.deviceId)).length).toBe(0);

    await jobs.run();
    const rows = await rollupRows(d.deviceId);
    const lateRows = rows.filter((r) => r.bucket.getTime() < Date.now() - 2 * HOUR);
    expect(lateRows.map((r) => r.bucket.getTime())).toEqual([...late].reverse().map((h) => h.getTime()));
    expect(lateRows.every((r) => r.samples === 2 && Math.abs(r.cpu - 20) < 0.01)).toBe(true);
    expect((await srv.sql`select 1 from telemetry_rollup_pending where device_id = ${d.deviceId}`).count).toBe(0);

    // the 7-day chart reads the rollup and shows every late hour
    const q = new URLSearchParams({ from: new Date(Date.now() - 7 * 24 * HOUR).toISOString(), to: new Date().toISOString() });
    const api = await srv.api(`/api/v1/devices/${d.deviceId}/telemetry?${q}`);
    expect(api.status).toBe(200);
    const body = (await api.json()) as { source: string; points: { time: string; samples: number; cpuPercent: number }[] };
    expect(body.source).toBe("rollup");
    for (const hour of late) {
      const point = body.points.find((p) => Date.parse(p.time) <= hour.getTime() && hour.getTime() < Date.parse(p.time) + 2 * HOUR);
      expect(point?.samples).toBeGreaterThanOrEqual(2);
    }
    expect(body.points.reduce((n, p) => n + p.samples, 0)).toBe(11);
  });

  test("a second late batch for an hour already rolled up is rolled up again with both", async () => {
    const d = await newDevice();
    const jobs = telemetryJobs(srv.sql, srv.server.services.engine);
    const hour = hourAgo(3);
    await sendBeacon(srv.url, d.deviceId, d.secret, "1.0.0", [{ seq: 1, samples: [sample(new Date(hour.getTime() + 60_000), 10)] }]);
    await jobs.run();
    expect((await rollupRows(d.deviceId)).map((r) => [r.samples, r.cpu])).toEqual([[1, 10]]);
    await sendBeacon(srv.url, d.deviceId, d.secret, "1.0.0", [{ seq: 2, samples: [sample(new Date(hour.getTime() + 120_000), 30)] }]);
    await jobs.run();
    expect((await rollupRows(d.deviceId)).map((r) => [r.samples, r.cpu])).toEqual([[2, 20]]);
  });
});

describe("deleting a device (native engine)", () => {
  test("removes its hourly rollup rows with it, through the API", async () => {
    const d = await newDevice();
    const keep = await newDevice();
    for (const dev of [d, keep])
      await sendBeacon(srv.url, dev.deviceId, dev.secret, "1.0.0", [{ seq: 1, samples: [sample(hourAgo(4, 10), 40)] }]);
    await telemetryJobs(srv.sql, srv.server.services.engine).run();
    expect((await rollupRows(d.deviceId)).length).toBe(1);
    const res = await srv.api(`/api/v1/devices/${d.deviceId}`, { method: "DELETE" });
    expect(res.status).toBe(200);
    expect((await rollupRows(d.deviceId)).length).toBe(0);
    expect((await rollupRows(keep.deviceId)).length).toBe(1);
  });

  test("a rollup row cannot outlive its device (foreign key with cascade)", async () => {
    const d = await newDevice();
    await srv.sql`insert into device_telemetry_1h (bucket, device_id, samples, cpu_percent, cpu_percent_max, memory_percent,
      memory_percent_max, swap_percent, disk_percent, disk_percent_max, load1, network_rx_bps, network_tx_bps, disk_read_bps, disk_write_bps)
      values (${hourAgo(9)}, ${d.deviceId}, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)`;
    await srv.sql`delete from devices where id = ${d.deviceId}`;
    expect((await rollupRows(d.deviceId)).length).toBe(0);
    const orphan = srv.sql`insert into device_telemetry_1h (bucket, device_id, samples, cpu_percent, cpu_percent_max, memory_percent,
      memory_percent_max, swap_percent, disk_percent, disk_percent_max, load1, network_rx_bps, network_tx_bps, disk_read_bps, disk_write_bps)
      values (${hourAgo(9)}, ${d.deviceId}, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)`;
    await expect(orphan).rejects.toMatchObject({ code: "23503" });
  });
});
