import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { device, otherOrganization, sample } from "../testing/fixtures.ts";
import { login, startTestServer, type TestServer } from "../testing/harness.ts";

let srv: TestServer;
let other: Awaited<ReturnType<typeof otherOrganization>>;
const ids: string[] = [];

beforeAll(async () => {
  srv = await startTestServer();
  const [site] = await srv.sql<{ id: string; org: string }[]>`select id, organization_id as org from sites limit 1`;
  for (let i = 0; i < 25; i++) {
    const id = Bun.randomUUIDv7();
    ids.push(id);
    // five look connected to this node (so the status engine keeps them online); the first, with its
    // history, does not (a fixture's online device has a latest sample of now, newer than that history)
    const online = i >= 1 && i <= 5;
    await device(srv.sql, {
      id,
      organizationId: site!.org,
      siteId: site!.id,
      hostname: `dev-${String(i).padStart(2, "0")}`,
      os: i % 3 === 0 ? "windows" : "linux",
      tags: i % 2 === 0 ? ["role=web"] : ["role=db"],
      ...(online ? { onlineOn: srv.server.services.nodeId } : {}),
    });
  }
  // two hours of samples for the first device, one a minute, through the server's ingest
  const now = Date.now();
  const samples = Array.from({ length: 120 }, (_, m) => sample(new Date(now - (120 - m) * 60_000), m % 100));
  await srv.server.services.ingest.submit(ids[0]!, site!.org, { seq: 1, samples });
  other = await otherOrganization(srv.sql);
}, 120_000);
afterAll(() => srv.stop());

type Query = NonNullable<Parameters<TestServer["client"]["api"]["v1"]["devices"]["get"]>[0]>["query"];
/** A page of the device list through the typed client (its type comes from the route's response schema). */
async function page(query: Query) {
  const { data, error } = await srv.client.api.v1.devices.get({ query });
  if (error) throw new Error(`${error.status}: ${error.value.error.code}`);
  return data;
}
type Page = Awaited<ReturnType<typeof page>>;

describe("device list", () => {
  test("pages with a cursor through every device exactly once, with a total", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const p: Page = await page({ limit: 10, ...(cursor ? { cursor } : {}) });
      expect(p.total).toBe(25);
      seen.push(...p.items.map((d) => d.id));
      cursor = p.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(25);
    expect(seen).not.toContain(other.deviceId);
  });

  test("filters by status, search, tag and OS", async () => {
    expect((await page({ status: "online" })).total).toBe(5);
    expect((await page({ q: "dev-1" })).total).toBe(10);
    expect((await page({ tag: "role=web" })).total).toBe(13);
    expect((await page({ os: "windows" })).total).toBe(9);
    expect((await page({ q: "%" })).total).toBe(0);
  });

  test("sorts on the server by status, CPU and last seen, paging by cursor", async () => {
    const byStatus = await page({ sort: "status", limit: 30 });
    expect(byStatus.items[0]?.status).toBe("offline");
    expect(byStatus.items.at(-1)?.status).toBe("online");
    const byCpu = await page({ sort: "cpu", order: "desc", limit: 1 });
    expect(byCpu.items[0]?.id).toBe(ids[0]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const p: Page = await page({ sort: "lastSeen", limit: 7, ...(cursor ? { cursor } : {}) });
      seen.push(...p.items.map((d) => d.id));
      cursor = p.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(25);
    const first = await page({ limit: 5 });
    expect((await srv.api(`/api/v1/devices?sort=cpu&cursor=${first.nextCursor}`)).status).toBe(422);
    expect((await srv.api("/api/v1/devices?sort=colour")).status).toBe(422);
  });

  test("the latest sample rides along", async () => {
    const p = await page({ q: "dev-00" });
    expect(p.items[0]?.telemetry?.cpuPercent).toBe(19);
  });

  test("wrong types in the query string are 422 naming the field; a cursor we did not issue is 422 INVALID_CURSOR", async () => {
    for (const q of ["?limit=abc", "?limit=0", "?limit=100000", "?status=purple", "?siteId=nope", "?os=amiga"]) {
      const res = await srv.api(`/api/v1/devices${q}`);
      expect(res.status).toBe(422);
      const err = ((await res.json()) as { error: { code: string; message: string } }).error;
      expect(err.code).toBe("VALIDATION_FAILED");
      expect(err.message).toContain(q.slice(1, q.indexOf("=")));
    }
    const res = await srv.api("/api/v1/devices?cursor=garbage");
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("INVALID_CURSOR");
  });

  test("counts per status", async () => {
    expect(await (await srv.api("/api/v1/devices/counts")).json()).toEqual({ online: 5, unresponsive: 0, offline: 20 });
  });
});

describe("one device", () => {
  test("detail of our device; 404 for an unknown id and for another organization's device", async () => {
    expect((await srv.api(`/api/v1/devices/${ids[1]}`)).status).toBe(200);
    expect((await srv.api(`/api/v1/devices/${Bun.randomUUIDv7()}`)).status).toBe(404);
    const res = await srv.api(`/api/v1/devices/${other.deviceId}`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("DEVICE_NOT_FOUND");
    expect((await srv.api(`/api/v1/devices/${other.deviceId}/telemetry`)).status).toBe(404);
    expect((await srv.api(`/api/v1/devices/${other.deviceId}`, { method: "DELETE" })).status).toBe(404);
    expect((await srv.api(`/api/v1/devices/${other.deviceId}/disconnect`, { body: {} })).status).toBe(404);
    expect((await srv.api("/api/v1/devices/not-a-uuid")).status).toBe(422);
  });

  test("the other organization sees its own device and not ours", async () => {
    const cookie = await login(srv.url, other.email, other.password);
    const res = await fetch(`${srv.url}/api/v1/devices`, { headers: { cookie } });
    const p = (await res.json()) as { items: { id: string }[] };
    expect(p.items.map((d) => d.id)).toEqual([other.deviceId]);
    expect((await fetch(`${srv.url}/api/v1/devices/${ids[0]}`, { headers: { cookie } })).status).toBe(404);
  });

  test("telemetry comes back in buckets", async () => {
    const to = new Date();
    const from = new Date(to.getTime() - 2 * 3600_000 - 60_000);
    const res = await srv.api(`/api/v1/devices/${ids[0]}/telemetry?from=${from.toISOString()}&to=${to.toISOString()}&bucketSeconds=600`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { points: { samples: number; cpuPercent: number }[]; source: string };
    expect(body.source).toBe("raw");
    expect(body.points.length).toBeGreaterThanOrEqual(12);
    expect(body.points.reduce((n, p) => n + p.samples, 0)).toBe(120);
  });

  test("bad telemetry ranges are 400, malformed parameters 422", async () => {
    const now = new Date().toISOString();
    for (const q of [`?from=${now}&to=${now}`, "?from=2020-01-01T00:00:00.000Z&bucketSeconds=1"]) {
      expect((await srv.api(`/api/v1/devices/${ids[0]}/telemetry${q}`)).status).toBe(400);
    }
    for (const q of ["?from=yesterday", "?bucketSeconds=-5"]) {
      expect((await srv.api(`/api/v1/devices/${ids[0]}/telemetry${q}`)).status).toBe(422);
    }
  });

  test("delete removes the device and its telemetry, and is audited", async () => {
    const id = ids[24]!;
    expect((await srv.api(`/api/v1/devices/${id}`, { method: "DELETE" })).status).toBe(200);
    expect((await srv.api(`/api/v1/devices/${id}`)).status).toBe(404);
    const [audit] = await srv.sql`select action from audit_log where target_id = ${id}`;
    expect(audit?.action).toBe("device.deleted");
  });
});

describe("sites and tags", () => {
  test("our sites with device counts, and tags in use; not another organization's", async () => {
    const sites = (await (await srv.api("/api/v1/sites")).json()) as { items: { id: string; clientName: string; deviceCount: number }[] };
    expect(sites.items.map((x) => x.id)).not.toContain(other.siteId);
    expect(sites.items[0]?.deviceCount).toBe(24);
    const tags = (await (await srv.api("/api/v1/tags")).json()) as { items: { tag: string; devices: number }[] };
    expect(tags.items).toEqual([
      { tag: "role=db", devices: 12 },
      { tag: "role=web", devices: 12 },
    ]);
  });
});

describe("alerts", () => {
  test("another organization's alert cannot be listed or acknowledged", async () => {
    const list = (await (await srv.api("/api/v1/alerts")).json()) as { items: { id: string }[] };
    expect(list.items.map((a) => a.id)).not.toContain(other.alertId);
    expect((await srv.api(`/api/v1/alerts/${other.alertId}/acknowledge`, { body: {} })).status).toBe(404);
    expect((await srv.api("/api/v1/alerts?state=bogus")).status).toBe(422);
    expect((await srv.api("/api/v1/alerts?acknowledged=maybe")).status).toBe(422);
    expect((await srv.api("/api/v1/alerts?acknowledged=false")).status).toBe(200);
  });
});
