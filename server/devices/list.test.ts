import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sendBeacon } from "../../agent/transport/beacon.ts";
import { signBody, signingKey, socketChallenge } from "../protocol/signing.ts";
import type { TelemetrySample } from "../protocol/telemetry.ts";
import { seedFleet } from "../../scripts/lib/seed-fleet.ts";
import { device, enrollDevice, organization, sample } from "../testing/fixtures.ts";
import { login, startTestServer, type TestServer, waitFor } from "../testing/harness.ts";
import { copyLine } from "../telemetry/rows.ts";
import { countDevices, listDevicePage } from "./store.ts";

/**
 * The device list (issue 11): every filter under every sort, keyset cursors (ties, concurrent
 * inserts, bad cursors), a client-scoped technician, and the latest-state row kept by real ingest.
 */
let srv: TestServer;
let orgId: string;
let siteA: string;
let siteB: string;
let clientB: string;
let groupId: string;

type Sort = "hostname" | "status" | "lastSeen" | "cpu" | "memory" | "disk";
const SORTS: Sort[] = ["hostname", "status", "lastSeen", "cpu", "memory", "disk"];
const RANK = { offline: 0, unresponsive: 1, online: 2 } as const;

/** What the test made: the expected truth each answer is checked against. */
interface Made {
  id: string;
  hostname: string;
  os: "linux" | "windows" | "darwin";
  tags: string[];
  site: "A" | "B";
  online: boolean;
  cpu?: number;
  memory?: number;
  disk?: number;
}
const made: Made[] = [];

/** A sample with these CPU, memory and disk figures (percent). */
function figures(time: Date, cpu: number, memory: number, disk: number): TelemetrySample {
  const s = sample(time, cpu);
  s.memoryUsedBytes = (memory / 100) * s.memoryTotalBytes;
  s.mounts[0]!.usedBytes = (disk / 100) * s.mounts[0]!.totalBytes;
  return s;
}

beforeAll(async () => {
  srv = await startTestServer();
  const [site] = await srv.sql<{ id: string; org: string }[]>`select id, organization_id as org from sites order by created_at limit 1`;
  orgId = site!.org;
  siteA = site!.id;
  clientB = ((await (await srv.api("/api/v1/clients", { body: { name: "Client B" } })).json()) as { id: string }).id;
  siteB = ((await (await srv.api("/api/v1/sites", { body: { clientId: clientB, name: "B office" } })).json()) as { id: string }).id;
  const oses = ["linux", "windows", "darwin"] as const;
  for (let i = 0; i < 30; i++) {
    const m: Made = {
      id: Bun.randomUUIDv7(),
      hostname: `node-${String(i).padStart(3, "0")}`,
      os: oses[i % 3]!,
      tags: [i % 2 === 0 ? "env=prod" : "env=dev", `rack=${i % 4}`],
      site: i < 20 ? "A" : "B",
      // online devices have a recent sample (the fixture writes it)
      online: i % 5 === 0 && i < 24,
    };
    // ties on purpose: three CPU figures, four memory figures; the last six send nothing
    if (i < 24) Object.assign(m, { cpu: [10, 20, 30][i % 3], memory: 40 + (i % 4) * 5, disk: i * 2 });
    made.push(m);
    await device(srv.sql, {
      id: m.id,
      organizationId: orgId,
      siteId: m.site === "A" ? siteA : siteB,
      hostname: m.hostname,
      os: m.os,
      tags: m.tags,
      ...(m.online
        ? { onlineOn: srv.server.services.nodeId, latest: { cpuPercent: m.cpu!, memoryPercent: m.memory!, diskPercent: m.disk! } }
        : {}),
    });
  }
  const now = Date.now();
  await Promise.all(
    made
      .filter((m) => m.cpu !== undefined && !m.online)
      .map((m, i) =>
        srv.server.services.ingest.submit(m.id, orgId, {
          seq: 1,
          samples: [figures(new Date(now - i * 1000), m.cpu!, m.memory!, m.disk!)],
        }),
      ),
  );
  const res = await srv.api("/api/v1/groups", { body: { name: "prod", expression: 'tag.env = "prod"' } });
  expect(res.status).toBe(201);
  groupId = ((await res.json()) as { id: string }).id;
  await waitFor("group members", async () => {
    const [row] = await srv.sql<{ n: number }[]>`select count(*)::int as n from device_group_members where group_id = ${groupId}`;
    return row?.n === 15;
  });
}, 120_000);
afterAll(() => srv.stop());

interface Item {
  id: string;
  hostname: string;
  status: keyof typeof RANK;
  siteId: string;
  lastSeenAt: string | null;
  telemetry: { cpuPercent: number; memoryPercent: number; diskPercent: number; time: string } | null;
}
interface Page {
  items: Item[];
  nextCursor: string | null;
  total: number;
  totalExact: boolean;
}

async function get(query: Record<string, string | number>, as?: string): Promise<Page> {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
  const res = as ? await fetch(`${srv.url}/api/v1/devices?${qs}`, { headers: { cookie: as } }) : await srv.api(`/api/v1/devices?${qs}`);
  if (res.status !== 200) throw new Error(`${qs}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Page;
}

/** Every page of a query, `limit` at a time, following the cursors. */
async function all(query: Record<string, string | number>, limit: number, as?: string): Promise<{ items: Item[]; totals: number[] }> {
  const items: Item[] = [];
  const totals: number[] = [];
  let cursor: string | null = null;
  for (let n = 0; n < 100; n++) {
    const p: Page = await get({ ...query, limit, ...(cursor ? { cursor } : {}) }, as);
    items.push(...p.items);
    totals.push(p.total);
    cursor = p.nextCursor;
    if (!cursor) return { items, totals };
  }
  throw new Error(`more than 100 pages: ${JSON.stringify(query)} ${items.slice(-6).map((d) => d.hostname)}`);
}

/** The sort key of an answer row (null: no telemetry, sorts last). */
function key(d: Item, sort: Sort, seen: Map<string, string>): string | number | null {
  switch (sort) {
    case "hostname":
      return d.hostname;
    case "status":
      return RANK[d.status];
    case "lastSeen":
      return seen.get(d.id) ?? null;
    case "cpu":
      return d.telemetry?.cpuPercent ?? null;
    case "memory":
      return d.telemetry?.memoryPercent ?? null;
    case "disk":
      return d.telemetry?.diskPercent ?? null;
  }
}

/** Asserts rows are in (key, id) order, nulls last in id order; status and hostname keep hostname A–Z within a status. */
function expectOrdered(items: Item[], sort: Sort, desc: boolean, seen: Map<string, string>) {
  for (let i = 1; i < items.length; i++) {
    const a = items[i - 1]!;
    const b = items[i]!;
    const ka = key(a, sort, seen);
    const kb = key(b, sort, seen);
    const where = `${sort} ${desc ? "desc" : "asc"} at ${i}: ${a.hostname}(${ka}) then ${b.hostname}(${kb})`;
    if (ka === null || kb === null) {
      expect(ka === null && kb !== null, where).toBe(false);
      if (ka === null && kb === null) expect(a.id < b.id, where).toBe(true);
      continue;
    }
    if (sort === "status") {
      const ra = desc ? 2 - (ka as number) : (ka as number);
      const rb = desc ? 2 - (kb as number) : (kb as number);
      expect(ra < rb || (ra === rb && a.hostname <= b.hostname), where).toBe(true);
      continue;
    }
    const before = desc ? ka > kb : ka < kb;
    const tieOk = desc ? a.id > b.id : a.id < b.id;
    expect(before || (ka === kb && tieOk), where).toBe(true);
  }
}

const lastSeen = async () =>
  new Map(
    (await srv.sql<{ id: string; t: string }[]>`select device_id as id, seen_at::text as t from device_latest`).map((r) => [r.id, r.t]),
  );

describe("device list: sorts and cursors", () => {
  test("every sort in both orders pages through all devices exactly once, in order, ties broken by id, no telemetry last", async () => {
    const seen = await lastSeen();
    for (const sort of SORTS) {
      for (const order of ["asc", "desc"] as const) {
        const whole = await get({ sort, order, limit: 500 });
        expect(whole.items.length).toBe(30);
        expect(whole.total).toBe(30);
        expect(whole.totalExact).toBe(true);
        expectOrdered(whole.items, sort, order === "desc", seen);
        const paged = await all({ sort, order }, 4);
        expect(
          paged.items.map((d) => d.id),
          `${sort} ${order}`,
        ).toEqual(whole.items.map((d) => d.id));
        expect(new Set(paged.totals)).toEqual(new Set([30]));
      }
    }
  });

  test("at fleet size a page of the whole fleet is one statement per sort, planned once and reused (a generic plan), not planned on every request", async () => {
    // another organization with a fleet big enough for the planner's estimates to matter: a page was
    // planned again on every request (a parameter limit; the organization stated on two tables)
    const { organizationId } = await organization(srv.sql, "Planned MSP");
    await seedFleet(srv.sql, organizationId, { devices: 20_000, clients: 2, sitesPerClient: 2 });
    await srv.sql`analyze devices`;
    await srv.sql`analyze device_latest`;
    const one = await srv.sql.reserve();
    try {
      // the connection may have run the statements before (prepared statements live per connection): count from here
      const plans = async () =>
        new Map(
          (
            await one<{ statement: string; custom: number; generic: number }[]>`
              select statement, custom_plans::int as custom, generic_plans::int as generic from pg_prepared_statements
              where statement like '%array_to_json(d.tags)%' and statement not like '%pg_prepared_statements%'`
          ).map((r) => [r.statement, r]),
        );
      // statuses moved since the last analyze (a server restart turns a fleet unresponsive): seeing the
      // cursor's values, the planner once estimated one row past them and sorted the rest
      await srv.sql`update devices set status = 'unresponsive' where organization_id = ${organizationId} and hostname > 'sim-05'`;
      const before = await plans();
      for (const sort of ["hostname", "status", "cpu"] as const) {
        const desc = sort === "cpu";
        for (let i = 0; i < 12; i++) await listDevicePage(one as never, organizationId, {}, { limit: 50, sort, desc });
        // and twelve later pages, each after the last (the status walk crosses into the unresponsive devices)
        const first = await listDevicePage(one as never, organizationId, {}, { limit: 50, sort, desc });
        let after = first.last;
        if (sort === "status") after = { key: ["0", "sim-05"], id: "00000000-0000-0000-0000-000000000000" };
        for (let i = 0; i < 12; i++)
          after = (await listDevicePage(one as never, organizationId, {}, { limit: 50, sort, desc, after })).last;
      }
      const ran = [...(await plans()).values()]
        .map((p) => ({
          ...p,
          custom: p.custom - (before.get(p.statement)?.custom ?? 0),
          generic: p.generic - (before.get(p.statement)?.generic ?? 0),
        }))
        .filter((p) => p.custom + p.generic > 0);
      // two statements per sort (first page, later page), each run 12 or 13 times: PostgreSQL plans the
      // first five itself, then keeps the generic plan
      expect(ran.map((p) => p.custom + p.generic).sort()).toEqual([12, 12, 12, 13, 13, 13]);
      for (const p of ran) {
        expect(p.custom, JSON.stringify(ran)).toBeLessThanOrEqual(5);
        expect(p.generic, JSON.stringify(ran)).toBeGreaterThanOrEqual(7);
      }
    } finally {
      one.release();
      await srv.sql`delete from devices where organization_id = ${organizationId}`;
    }
  }, 60_000);

  test("the latest sample rides along from the latest-state row", async () => {
    const p = await get({ q: "node-004" });
    expect(p.items[0]?.telemetry).toMatchObject({ cpuPercent: 20, memoryPercent: 40, diskPercent: 8 });
    expect((await get({ q: "node-029" })).items[0]?.telemetry).toBeNull();
  });

  test("stable under concurrent inserts: every device present at the start is listed, and twice only when its sort key moved", async () => {
    // the sort key each listing showed: keyset paging lists a device again only when its key moved past the cursor
    const keyOf = (sort: Sort, d: Item) =>
      JSON.stringify(
        sort === "hostname"
          ? d.hostname
          : sort === "status"
            ? d.status
            : sort === "lastSeen"
              ? d.lastSeenAt
              : sort === "cpu"
                ? (d.telemetry?.cpuPercent ?? null)
                : (d.telemetry?.memoryPercent ?? null),
      );
    for (const [sort, order] of [
      ["hostname", "asc"],
      ["cpu", "desc"],
      ["memory", "asc"],
      ["status", "asc"],
      ["lastSeen", "desc"],
    ] as const) {
      const before = new Set((await get({ limit: 500 })).items.map((d) => d.id));
      const seen = new Map<string, string[]>();
      let cursor: string | null = null;
      let added = 0;
      do {
        const p: Page = await get({ sort, order, limit: 4, ...(cursor ? { cursor } : {}) });
        for (const d of p.items) seen.set(d.id, [...(seen.get(d.id) ?? []), keyOf(sort, d)]);
        cursor = p.nextCursor;
        // a device arrives between pages, with and without telemetry, sorting anywhere
        const id = await device(srv.sql, { organizationId: orgId, siteId: siteA, hostname: `late-${sort}-${added}`, tags: ["late"] });
        if (added % 2 === 0)
          await srv.server.services.ingest.submit(id, orgId, { seq: 1, samples: [figures(new Date(), 15 + added, 50, 50)] });
        added++;
      } while (cursor);
      for (const [id, keys] of seen)
        expect(new Set(keys).size, `${sort}: ${id} listed again under the same key ${keys.join(" ")}`).toBe(keys.length);
      for (const id of before) expect(seen.has(id), `${sort}: ${id} listed`).toBe(true);
    }
    await srv.sql`delete from devices where 'late' = any(tags)`;
  });
});

describe("device list: filters", () => {
  const cases: [string, Record<string, string>, (m: Made) => boolean][] = [
    ["status", { status: "online" }, (m) => m.online],
    ["search", { q: "NODE-01" }, (m) => m.hostname.startsWith("node-01")],
    ["search for a tag", { q: "rack=3" }, (m) => m.tags.includes("rack=3")],
    ["tag", { tag: "env=prod" }, (m) => m.tags.includes("env=prod")],
    ["os", { os: "windows" }, (m) => m.os === "windows"],
    ["site", {}, (m) => m.site === "B"],
    ["group", {}, (m) => m.tags.includes("env=prod")],
    ["tag, os and site", { tag: "rack=1", os: "linux" }, (m) => m.tags.includes("rack=1") && m.os === "linux" && m.site === "A"],
    // a search with another filter: its matches from device_search, the rest on devices (metric and status sorts pick them first)
    ["search and os", { q: "ode-01", os: "windows" }, (m) => m.hostname.startsWith("node-01") && m.os === "windows"],
    ["search, status and tag", { q: "NODE-0", status: "online", tag: "env=prod" }, (m) => m.online && m.tags.includes("env=prod")],
  ];

  test("each filter under each sort and order: exactly its devices, paged, with an exact total", async () => {
    const seen = await lastSeen();
    for (const [name, base, match] of cases) {
      const filter = { ...base };
      if (name === "site") filter.siteId = siteB;
      if (name === "group") filter.groupId = groupId;
      if (name === "tag, os and site") filter.siteId = siteA;
      const expected = made.filter(match).map((m) => m.id);
      expect(expected.length, name).toBeGreaterThan(0);
      for (const sort of SORTS) {
        for (const order of ["asc", "desc"] as const) {
          const got = await all({ ...filter, sort, order }, 3);
          const label = `${name} by ${sort} ${order}`;
          expect(got.items.map((d) => d.id).sort(), label).toEqual([...expected].sort());
          expect(
            got.totals.every((t) => t === expected.length),
            label,
          ).toBe(true);
          expectOrdered(got.items, sort, order === "desc", seen);
        }
      }
    }
  });

  test("search is a case-insensitive substring; LIKE wildcards are matched literally", async () => {
    expect((await get({ q: "ODE-00" })).total).toBe(10);
    expect((await get({ q: "%" })).total).toBe(0);
    expect((await get({ q: "node_0" })).total).toBe(0);
    expect((await get({ q: "Debian" })).total).toBe(0);
  });

  test("the count stops at its cap and says so", async () => {
    expect(await countDevices(srv.sql, orgId, {}, 5)).toEqual({ n: 5, exact: false });
    expect(await countDevices(srv.sql, orgId, { tag: "rack=3" }, 100)).toEqual({ n: 7, exact: true });
  });
});

describe("device list: bad input", () => {
  test("a cursor not issued for this sort, order and filter, or not ours at all, is 422 INVALID_CURSOR; nothing else breaks", async () => {
    const first = await get({ sort: "cpu", order: "desc", limit: 3 });
    const c = first.nextCursor!;
    const decoded = JSON.parse(Buffer.from(c, "base64url").toString());
    const forge = (patch: Record<string, unknown>) => Buffer.from(JSON.stringify({ ...decoded, ...patch })).toString("base64url");
    const bad: [string, string][] = [
      ["garbage", "sort=cpu&order=desc&cursor=garbage"],
      ["not an object", `sort=cpu&order=desc&cursor=${Buffer.from("42").toString("base64url")}`],
      ["another sort", `sort=memory&order=desc&cursor=${c}`],
      ["another order", `sort=cpu&order=asc&cursor=${c}`],
      ["another filter", `sort=cpu&order=desc&tag=env%3Dprod&cursor=${c}`],
      ["an id that is not a uuid", `sort=cpu&order=desc&cursor=${forge({ i: "1; drop table devices" })}`],
      ["a key that is not a number", `sort=cpu&order=desc&cursor=${forge({ k: ["ten"] })}`],
      ["two keys", `sort=cpu&order=desc&cursor=${forge({ k: ["1", "2"] })}`],
      ["a negative total", `sort=cpu&order=desc&cursor=${forge({ n: -1 })}`],
      ["a status key out of range", `sort=status&cursor=${forge({ s: "status", d: 0, k: ["7", "x"] })}`],
    ];
    for (const [label, qs] of bad) {
      const res = await srv.api(`/api/v1/devices?${qs}`);
      expect(res.status, label).toBe(422);
      expect(((await res.json()) as { error: { code: string } }).error.code, label).toBe("INVALID_CURSOR");
    }
    // the genuine cursor still works
    expect((await get({ sort: "cpu", order: "desc", limit: 3, cursor: c })).items.length).toBe(3);
  });

  test("unknown sorts, orders and filter values are 422 VALIDATION_FAILED naming the parameter", async () => {
    for (const qs of ["sort=colour", "order=up", "status=purple", "os=amiga", "siteId=x", "groupId=x", "limit=0", "tag="]) {
      const res = await srv.api(`/api/v1/devices?${qs}`);
      expect(res.status, qs).toBe(422);
      const err = ((await res.json()) as { error: { code: string; message: string } }).error;
      expect(err.code).toBe("VALIDATION_FAILED");
      expect(err.message).toContain(qs.slice(0, qs.indexOf("=")));
    }
  });
});

describe("device list: a client-scoped technician", () => {
  test("sees only their client's devices under every sort, filter and cursor", async () => {
    const res = await srv.api("/api/v1/users", {
      body: { email: "tech-b@example.com", password: "a long password", role: "technician", clientIds: [clientB] },
    });
    expect(res.status).toBe(201);
    const cookie = await login(srv.url, "tech-b@example.com", "a long password");
    const mine = made.filter((m) => m.site === "B").map((m) => m.id);
    for (const sort of SORTS) {
      for (const order of ["asc", "desc"] as const) {
        const got = await all({ sort, order }, 3, cookie);
        expect(got.items.map((d) => d.id).sort(), `${sort} ${order}`).toEqual([...mine].sort());
        expect(got.totals.every((t) => t === mine.length)).toBe(true);
      }
    }
    const prod = made.filter((m) => m.site === "B" && m.tags.includes("env=prod")).map((m) => m.id);
    expect((await all({ sort: "cpu", order: "desc", groupId }, 2, cookie)).items.map((d) => d.id).sort()).toEqual([...prod].sort());
    expect((await get({ siteId: siteA }, cookie)).total).toBe(0);
    // a cursor issued to the admin is not the technician's (its filter includes their clients)
    const adminCursor = (await get({ limit: 2 })).nextCursor!;
    const r = await fetch(`${srv.url}/api/v1/devices?limit=2&cursor=${adminCursor}`, { headers: { cookie } });
    expect(r.status).toBe(422);
  });

  test("the same page asked at once by the technician and the admin: each gets their own rows (identical reads are shared only within one scope)", async () => {
    const res = await srv.api("/api/v1/users", {
      body: { email: "tech-b2@example.com", password: "a long password", role: "technician", clientIds: [clientB] },
    });
    expect(res.status).toBe(201);
    const cookie = await login(srv.url, "tech-b2@example.com", "a long password");
    const mine = made.filter((m) => m.site === "B").map((m) => m.id);
    const everyone = made.map((m) => m.id);
    for (let round = 0; round < 5; round++) {
      const asked = Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? get({ limit: 100 }, cookie) : get({ limit: 100 })));
      const pages = await Promise.all(asked);
      pages.forEach((p, i) => {
        expect(p.items.map((d) => d.id).sort(), `request ${i}`).toEqual([...(i % 2 === 0 ? mine : everyone)].sort());
      });
    }
  });
});

describe("device_search: what a search walks (migration 00043)", () => {
  test("follows each device's searchable facts: insert, rename, tags, OS name, serial, delete; other writes leave it alone", async () => {
    const id = await device(srv.sql, { organizationId: orgId, siteId: siteA, hostname: "Search-Sync-01", tags: ["env=lab"] });
    const row = async () =>
      (
        await srv.sql<{ hostname: string; search_text: string; xmin: string }[]>`
        select hostname, search_text, xmin::text from device_search where device_id = ${id}`
      )[0];
    expect(await row()).toMatchObject({ hostname: "Search-Sync-01", search_text: expect.stringContaining("search-sync-01") });
    await srv.sql`update devices set hostname = 'Renamed-02', tags = array['role=ci'], os_name = 'Plan 9', serial_number = 'SN-XYZ' where id = ${id}`;
    const renamed = await row();
    expect(renamed?.hostname).toBe("Renamed-02");
    for (const part of ["renamed-02", "role=ci", "plan 9", "sn-xyz"]) expect(renamed?.search_text).toContain(part);
    expect(renamed?.search_text).not.toContain("env=lab");
    // a reconnect's hello writes the same facts again, and contact moves other columns: the search row stays as it was
    await srv.sql`update devices set hostname = 'Renamed-02', os_name = 'Plan 9', last_seen_at = now(), status = 'online' where id = ${id}`;
    expect((await row())?.xmin).toBe(renamed?.xmin as string);
    expect((await get({ q: "renamed-0" })).items.map((d) => d.id)).toEqual([id]);
    await srv.sql`delete from devices where id = ${id}`;
    expect(await row()).toBeUndefined();
  });
});

describe("latest-state row: kept by real ingest", () => {
  test("socket batches and beacons move it; an older sample (a late spool) does not; its time is the device's last contact", async () => {
    const d = await enrollDevice(srv, "ingest-host");
    const ts = Date.now();
    const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64url");
    const sig = signBody(signingKey(d.secret), ts, socketChallenge(d.deviceId, nonce));
    const q = new URLSearchParams({ device: d.deviceId, ts: String(ts), nonce, sig });
    const ws = new WebSocket(`${srv.url.replace("http", "ws")}/api/agent/v1/ws?${q}`);
    const frames: { type: string }[] = [];
    ws.addEventListener("message", (e) => frames.push(JSON.parse(String(e.data))));
    await waitFor("welcome", async () => frames.some((f) => f.type === "welcome"));
    const t0 = Date.now();
    ws.send(JSON.stringify({ v: 1, id: "t1", type: "telemetry", data: { seq: 1, samples: [figures(new Date(t0 - 1000), 97.5, 60, 70)] } }));
    await waitFor("ack", async () => frames.some((f) => f.type === "ack"));
    const top = async () => (await get({ sort: "cpu", order: "desc", limit: 1 })).items[0];
    expect((await top())?.id).toBe(d.deviceId);
    expect((await top())?.telemetry).toMatchObject({ cpuPercent: 97.5, memoryPercent: 60, diskPercent: 70 });
    ws.close();

    await sendBeacon(srv.url, d.deviceId, d.secret, "1.0.0", [{ seq: 2, samples: [figures(new Date(t0), 99.25, 61, 71)] }]);
    expect((await top())?.telemetry).toMatchObject({ cpuPercent: 99.25, memoryPercent: 61, diskPercent: 71 });
    // a spooled sample older than the stored one: stored in history, the latest state stays
    await sendBeacon(srv.url, d.deviceId, d.secret, "1.0.0", [{ seq: 3, samples: [figures(new Date(t0 - 60_000), 1, 1, 1)] }]);
    const kept = (await top())?.telemetry;
    expect(kept?.cpuPercent).toBe(99.25);
    expect(Date.parse(kept?.time ?? "")).toBe(t0);
    const [row] = await srv.sql<{ same: boolean }[]>`
      select l.seen_at = greatest(d.last_seen_at, l.seen_at) as same from device_latest l join devices d on d.id = l.device_id
      where l.device_id = ${d.deviceId}`;
    expect(row?.same).toBe(true);
    const sorted = (await get({ sort: "lastSeen", order: "desc", limit: 1 })).items[0];
    expect(sorted?.id).toBe(d.deviceId);
    await srv.api(`/api/v1/devices/${d.deviceId}`, { method: "DELETE" });
    const [gone] = await srv.sql<{ n: number }[]>`select count(*)::int as n from device_latest where device_id = ${d.deviceId}`;
    expect(gone?.n).toBe(0);
  });
});

describe("migration 00026", () => {
  test("fills device_latest from the telemetry already stored (an existing installation's devices)", async () => {
    const id = await device(srv.sql, { organizationId: orgId, siteId: siteA, hostname: "old-install" });
    const now = Date.now();
    // history written before the latest-state table existed: straight into device_telemetry
    const copy = [3, 1, 2].map((m) => copyLine(id, m, figures(new Date(now - (10 - m) * 60_000), m * 10, 50, 60))).join("");
    const w = await srv.sql`copy device_telemetry from stdin`.writable();
    await new Promise<void>((resolve, reject) => {
      w.on("finish", resolve);
      w.on("error", reject);
      w.end(copy);
    });
    const migration = await Bun.file(new URL("../../db/migrations/00026_device_list.sql", import.meta.url)).text();
    const backfill = /insert into device_latest[\s\S]*?\) t;/.exec(migration)?.[0];
    expect(backfill).toBeDefined();
    // run against the schema as it was then (migration 00047 dropped devices.last_telemetry_at), and taken back
    const rollback = new Error("rollback");
    const found = await srv.sql
      .begin(async (tx) => {
        await tx`alter table devices add column last_telemetry_at timestamptz`;
        await tx`delete from device_latest`;
        await tx.unsafe(backfill!);
        const [row] = await tx<{ cpu: number; time: Date }[]>`select cpu_percent as cpu, time from device_latest where device_id = ${id}`;
        const [n] = await tx<{ n: number }[]>`select count(*)::int as n from device_latest`;
        const [m] = await tx<{ n: number }[]>`
          select count(distinct t.device_id)::int as n from device_telemetry t join devices d on d.id = t.device_id`;
        throw Object.assign(rollback, { found: { row, n: n?.n, m: m?.n } });
      })
      .catch((e: unknown) => (e === rollback ? (rollback as Error & { found: unknown }).found : Promise.reject(e)));
    const { row, n, m } = found as { row?: { cpu: number; time: Date }; n: number; m: number };
    expect(row?.cpu).toBe(30);
    expect(row?.time.getTime()).toBe(now - 7 * 60_000);
    expect(n).toBe(m);
  });
});
