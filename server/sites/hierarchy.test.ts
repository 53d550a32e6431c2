import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { seedFleet } from "../../scripts/lib/seed-fleet.ts";
import { device, enrollDevice, otherOrganization } from "../testing/fixtures.ts";
import { ADMIN, login, startTestServer, type TestServer } from "../testing/harness.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
}, 120_000);
afterAll(() => srv.stop());

type Client = { id: string; name: string; sites: { id: string; name: string; deviceCount: number }[] };
const clients = async () => ((await (await srv.api("/api/v1/clients")).json()) as { items: Client[] }).items;
const post = async (path: string, body: unknown) => srv.api(path, { body });
const idOf = async (res: Response) => ((await res.json()) as { id: string }).id;
const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

describe("clients and sites", () => {
  test("a client gets sites; devices enroll into a site, move between sites, and keep a non-empty site from deletion", async () => {
    const acme = await idOf(await post("/api/v1/clients", { name: "Acme" }));
    expect((await post("/api/v1/clients", { name: "Acme" })).status).toBe(409);
    const hq = await idOf(await post("/api/v1/sites", { clientId: acme, name: "HQ" }));
    const branch = await idOf(await post("/api/v1/sites", { clientId: acme, name: "Branch" }));
    expect((await clients()).find((c) => c.id === acme)?.sites.map((x) => x.name)).toEqual(["Branch", "HQ"]);

    // an enrollment token per site: the device lands in HQ
    const { deviceId } = await enrollDevice(srv, "acme-pc", [], hq);
    expect((await clients()).find((c) => c.id === acme)?.sites.find((x) => x.id === hq)?.deviceCount).toBe(1);

    const refused = await srv.api(`/api/v1/sites/${hq}`, { method: "DELETE" });
    expect(refused.status).toBe(409);
    expect(await code(refused)).toBe("NOT_EMPTY");
    expect((await srv.api(`/api/v1/clients/${acme}`, { method: "DELETE" })).status).toBe(409);

    expect(
      (await srv.api(`/api/v1/devices/${deviceId}`, { method: "PATCH", body: { siteId: branch, tags: ["role=server", "vip"] } })).status,
    ).toBe(200);
    const device = (await (await srv.api(`/api/v1/devices/${deviceId}`)).json()) as { siteId: string; tags: string[] };
    expect(device).toMatchObject({ siteId: branch, tags: ["role=server", "vip"] });
    expect((await srv.api(`/api/v1/sites/${hq}`, { method: "DELETE" })).status).toBe(200);

    // rename and move: audited with before and after
    expect((await srv.api(`/api/v1/clients/${acme}`, { method: "PUT", body: { name: "Acme Corp" } })).status).toBe(200);
    const [audit] = await srv.sql<
      { details: unknown }[]
    >`select details from audit_log where action = 'client.updated' and target_id = ${acme}`;
    expect(audit?.details).toEqual({ name: { before: "Acme", after: "Acme Corp" } });
    const [moved] = await srv.sql<{ details: { siteId: unknown } }[]>`
      select details from audit_log where action = 'device.updated' and target_id = ${deviceId} order by id desc limit 1`;
    expect(moved?.details.siteId).toEqual({ before: hq, after: branch });
  });

  test("a client without devices goes with its sites; an organization keeps its last site", async () => {
    const temp = await idOf(await post("/api/v1/clients", { name: "Temp" }));
    await post("/api/v1/sites", { clientId: temp, name: "T1" });
    expect((await srv.api(`/api/v1/clients/${temp}`, { method: "DELETE" })).status).toBe(200);
    expect((await clients()).some((c) => c.id === temp)).toBe(false);

    const org = await idOf(
      await post("/api/v1/organizations", {
        name: "Empty MSP",
        owner: { email: "owner@empty.example", password: "a long enough password" },
      }),
    );
    const cookie = await login(srv.url, "owner@empty.example", "a long enough password");
    const theirs = (await (await fetch(`${srv.url}/api/v1/clients`, { headers: { cookie } })).json()) as { items: Client[] };
    const onlySite = theirs.items[0]?.sites[0]?.id ?? "";
    const res = await fetch(`${srv.url}/api/v1/sites/${onlySite}`, { method: "DELETE", headers: { cookie } });
    expect(res.status).toBe(409);
    expect(await code(res)).toBe("LAST_SITE");
    expect(org).toBeTruthy();
  });

  test("bad input: unknown or foreign client and site ids are 404, bad names and tags 422", async () => {
    const other = await otherOrganization(srv.sql);
    expect((await post("/api/v1/sites", { clientId: crypto.randomUUID(), name: "x" })).status).toBe(404);
    const [theirClient] = await srv.sql<{ id: string }[]>`select id from clients where organization_id = ${other.organizationId}`;
    expect((await post("/api/v1/sites", { clientId: theirClient?.id, name: "x" })).status).toBe(404);
    const { deviceId } = await enrollDevice(srv, "tagged");
    expect((await srv.api(`/api/v1/devices/${deviceId}`, { method: "PATCH", body: { siteId: other.siteId } })).status).toBe(404);
    for (const body of [{ tags: ["has space"] }, { tags: "x" }, { siteId: "nope" }]) {
      expect((await srv.api(`/api/v1/devices/${deviceId}`, { method: "PATCH", body })).status).toBe(422);
    }
    for (const body of [{ name: "" }, { name: "x".repeat(201) }, {}]) expect((await post("/api/v1/clients", body)).status).toBe(422);
  });
});

describe("organizations (platform administrators)", () => {
  test("the first admin is a platform administrator: creates an organization whose owner sees only it", async () => {
    const res = await post("/api/v1/organizations", {
      name: "Second MSP",
      owner: { email: "owner@second.example", password: "a long enough password" },
    });
    expect(res.status).toBe(201);
    const orgId = await idOf(res);
    const list = (await (await srv.api("/api/v1/organizations")).json()) as {
      items: { id: string; name: string; sites: number; users: number }[];
    };
    expect(list.items.find((o) => o.id === orgId)).toMatchObject({ name: "Second MSP", sites: 1, users: 1 });

    const cookie = await login(srv.url, "owner@second.example", "a long enough password");
    const theirs = (await (await fetch(`${srv.url}/api/v1/clients`, { headers: { cookie } })).json()) as { items: Client[] };
    expect(theirs.items.map((c) => [c.name, c.sites.map((x) => x.name)])).toEqual([["Default client", ["Default site"]]]);
    const devices = (await (await fetch(`${srv.url}/api/v1/devices`, { headers: { cookie } })).json()) as { total: number };
    expect(devices.total).toBe(0);
    const rules = (await (await fetch(`${srv.url}/api/v1/alert-rules`, { headers: { cookie } })).json()) as { items: unknown[] };
    expect(rules.items.length).toBeGreaterThan(0); // the default rules, like the first organization

    // its owner is no platform administrator
    expect((await fetch(`${srv.url}/api/v1/organizations`, { headers: { cookie } })).status).toBe(403);
    const create = await fetch(`${srv.url}/api/v1/organizations`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: JSON.stringify({ name: "Third", owner: { email: "x@third.example", password: "a long enough password" } }),
    });
    expect(create.status).toBe(403);
    expect(await code(create)).toBe("PLATFORM_ADMIN_ONLY");
  });

  test("slugs: derived from the name and unique, or given; a taken slug is 409, a malformed one 422", async () => {
    const owner = (n: string) => ({ email: `${n}@slug.example`, password: "a long enough password" });
    const a = await post("/api/v1/organizations", { name: "Acme IT — North!", owner: owner("a") });
    const b = await post("/api/v1/organizations", { name: "Acme IT north", owner: owner("b") });
    const c = await post("/api/v1/organizations", { name: "Whatever", slug: "bravo-msp", owner: owner("c") });
    const slugs = (await (await srv.api("/api/v1/organizations")).json()) as { items: { id: string; slug: string }[] };
    const slugOf = async (res: Response) => {
      const id = await idOf(res);
      return slugs.items.find((o) => o.id === id)?.slug;
    };
    expect([await slugOf(a), await slugOf(b), await slugOf(c)]).toEqual(["acme-it-north", "acme-it-north-2", "bravo-msp"]);
    expect((await post("/api/v1/organizations", { name: "Again", slug: "bravo-msp", owner: owner("d") })).status).toBe(409);
    for (const slug of ["Bravo", "-x", "a b", "x".repeat(64), "../etc"])
      expect((await post("/api/v1/organizations", { name: "Bad", slug, owner: owner("e") })).status).toBe(422);
  });

  test("an owner e-mail already in use is 409; the password policy applies to the owner (422 with its code)", async () => {
    const dup = await post("/api/v1/organizations", { name: "Dup", owner: { email: ADMIN.email, password: "a long enough password" } });
    expect(dup.status).toBe(409);
    for (const [password, expected] of [
      ["short", "PASSWORD_TOO_SHORT"],
      ["s@short.example", "PASSWORD_IS_EMAIL"],
    ] as const) {
      const res = await post("/api/v1/organizations", { name: "Short", owner: { email: "s@short.example", password } });
      expect(res.status).toBe(422);
      expect(await code(res)).toBe(expected);
    }
  });
});

describe("a big fleet's menus", () => {
  test("site counts and tags are counted once and kept between device changes; names are read fresh", async () => {
    const [org] = await srv.sql<{ id: string }[]>`select organization_id as id from users where email = ${ADMIN.email}`;
    const { siteIds } = await seedFleet(srv.sql, org!.id, { devices: 1200, clients: 1, sitesPerClient: 2 });
    const site = siteIds[0]!;
    type Site = { id: string; name: string; deviceCount: number };
    const sites = async () => ((await (await srv.api("/api/v1/sites")).json()) as { items: Site[] }).items;
    const prod = async () =>
      ((await (await srv.api("/api/v1/tags")).json()) as { items: { tag: string; devices: number }[] }).items.find(
        (t) => t.tag === "env=prod",
      )?.devices;
    try {
      const count = (await sites()).find((s) => s.id === site)?.deviceCount ?? 0;
      const tagged = (await prod()) ?? 0;
      expect(count).toBeGreaterThan(500);
      // a device written behind the API's back (no event): the kept counts stand
      const id = await device(srv.sql, { organizationId: org!.id, siteId: site, hostname: "kept-count", tags: ["env=prod"] });
      expect((await sites()).find((s) => s.id === site)?.deviceCount).toBe(count);
      expect(await prod()).toBe(tagged);
      // a rename shows at once (names are not kept)
      expect((await srv.api(`/api/v1/sites/${site}`, { method: "PUT", body: { name: "Renamed while kept" } })).status).toBe(200);
      expect((await sites()).find((s) => s.id === site)).toMatchObject({ name: "Renamed while kept", deviceCount: count });
      // a change through the API (device.changed) drops them: counted again
      expect((await srv.api(`/api/v1/devices/${id}`, { method: "PATCH", body: { tags: ["env=prod", "vip"] } })).status).toBe(200);
      expect((await sites()).find((s) => s.id === site)?.deviceCount).toBe(count + 1);
      expect(await prod()).toBe(tagged + 1);
    } finally {
      await srv.sql`delete from devices where site_id = any(${siteIds}::uuid[])`;
    }
  }, 60_000);
});
