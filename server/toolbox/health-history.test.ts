import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDefender } from "../../agent/platform/windows-toolbox.ts";
import { parseSensorsJson, parseSmartctl } from "../../agent/toolbox/health.ts";
import type { HealthReport } from "../protocol/toolbox.ts";
import { device } from "../testing/fixtures.ts";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { healthReadings } from "./health-readings.ts";
import { recordHealth } from "./health-watch.ts";
import { dropOldHealthReadings } from "./store.ts";

/**
 * Health readings kept as a time series: reports made by the agent's parsers from recorded real
 * output (agent/test-data) are stored as the health watch stores them, then read back through the
 * history route; old readings are dropped after 90 days.
 */
const data = (path: string) => readFileSync(join(import.meta.dir, "../../agent/test-data", path), "utf8");
const T1 = Date.parse("2026-11-30T10:00:00Z");
const T2 = T1 + 15 * 60_000;
let srv: TestServer;
let deviceId: string;

const report = (): HealthReport => {
  const defender = parseDefender(data("windows/toolbox/get-mpcomputerstatus.txt"), T1);
  return {
    sensors: parseSensorsJson(data("linux/toolbox/sensors-j-amdgpu-it8603.txt")),
    disks: [parseSmartctl(data("smartctl/ata-hitachi-failing.json")), parseSmartctl(data("smartctl/nvme-samsung-970-evo.json"))],
    batteries: [],
    antivirus: defender ? [defender] : [],
    notes: [],
  };
};
type History = {
  kind: string;
  items: { subject: string; min: number; max: number; latest: number; count: number; points: [number, number][] }[];
};
const history = async (query: string) => {
  const res = await srv.api(`/api/v1/devices/${deviceId}/health/history?${query}`);
  return { status: res.status, body: (await res.json()) as History };
};

beforeAll(async () => {
  srv = await startTestServer();
  const [site] = await srv.sql<{ organizationId: string; siteId: string }[]>`
    select organization_id as "organizationId", id as "siteId" from sites order by created_at limit 1`;
  deviceId = await device(srv.sql, { organizationId: site!.organizationId, siteId: site!.siteId });
  const first = report();
  await recordHealth(srv.sql, deviceId, T1, first);
  // fifteen minutes later the board is 10 °C warmer and the disk lost another sector
  const later = report();
  later.sensors = later.sensors.map((s) => (s.kind === "temperature" ? { ...s, value: s.value + 10 } : s));
  later.disks = later.disks.map((d) => (d.reallocatedSectors !== null ? { ...d, reallocatedSectors: d.reallocatedSectors + 1 } : d));
  await recordHealth(srv.sql, deviceId, T2, later);
  await recordHealth(srv.sql, deviceId, T2, later); // the same read twice is stored once
}, 60_000);
afterAll(() => srv?.stop());

describe("health readings over time", () => {
  test("a report's numbers: sensors, disks' counters and temperatures, definitions' age; nothing for what is unknown", () => {
    const r = healthReadings(report(), T1);
    expect(r.filter((x) => x.kind === "temperature").map((x) => [x.subject, x.value])).toEqual([
      ["amdgpu-pci-0008 temp1", 12],
      ["it8603-isa-0290 AMD A6-7400K Radeon R5", 44],
      ["it8603-isa-0290 Asus A68HM-K Mobo", 45],
    ]);
    expect(r.filter((x) => x.subject === "/dev/sdc").map((x) => [x.kind, x.value])).toEqual([
      ["disk_temperature", 25],
      ["reallocated_sectors", 1975],
      ["pending_sectors", 8],
    ]);
    expect(r.find((x) => x.kind === "disk_wear")).toEqual({ kind: "disk_wear", subject: "/dev/nvme0", value: 3 });
    expect(r.find((x) => x.kind === "antivirus_definitions_age_days")).toEqual({
      kind: "antivirus_definitions_age_days",
      subject: "Microsoft Defender Antivirus",
      value: 0,
    });
  });

  test("the history route: per sensor min, max, latest, count and the points, oldest first", async () => {
    const { status, body } = await history("kind=temperature&days=90");
    expect(status).toBe(200);
    expect(body.items.find((i) => i.subject === "it8603-isa-0290 Asus A68HM-K Mobo")).toEqual({
      subject: "it8603-isa-0290 Asus A68HM-K Mobo",
      min: 45,
      max: 55,
      latest: 55,
      latestAt: expect.any(String) as unknown as string,
      count: 2,
      points: [
        [T1, 45],
        [T2, 55],
      ],
    } as never);
    const sectors = await history("kind=reallocated_sectors&days=90");
    expect(sectors.body.items.map((i) => [i.subject, i.latest, i.count])).toEqual([["/dev/sdc", 1976, 2]]);
    // outside the window: nothing
    expect((await history("kind=temperature&days=1")).body.items).toEqual([]);
  });

  test("bad queries are 422: unknown kind, no kind, more days than are kept", async () => {
    for (const q of ["kind=cpu", "", "kind=temperature&days=91", "kind=temperature&days=0", "kind=temperature&days=x"])
      expect((await srv.api(`/api/v1/devices/${deviceId}/health/history?${q}`)).status).toBe(422);
  });

  test("readings older than 90 days are dropped", async () => {
    const old = T1 - 100 * 86_400_000;
    await recordHealth(srv.sql, deviceId, old, report());
    const before = (await srv.sql`select count(*)::int as n from device_health_readings where device_id = ${deviceId}`)[0]?.n;
    expect(await dropOldHealthReadings(srv.sql, new Date(T2))).toBeGreaterThan(0);
    const after = (await srv.sql`select count(*)::int as n from device_health_readings where device_id = ${deviceId}`)[0]?.n;
    expect(after).toBeLessThan(before as number);
    expect((await srv.sql`select count(*)::int as n from device_health_readings where time < ${new Date(T1)}`)[0]?.n).toBe(0);
  });
});
