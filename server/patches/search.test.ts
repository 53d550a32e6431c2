import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { PatchScan, PendingUpdate } from "../protocol/patch.ts";
import { enrollDevice } from "../testing/fixtures.ts";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { recordScan } from "./updates.store.ts";

/**
 * Updates are found by what a technician has in hand: a package name, words of the title, or the CVE,
 * KB or advisory id a bulletin names, across the fleet and on one device; bad searches are 422.
 */
let srv: TestServer;
let web: string;
let db: string;

const update = (o: Partial<PendingUpdate> & { name: string }): PendingUpdate => ({
  source: "dnf",
  title: `${o.name} 2.0`,
  currentVersion: "1.0",
  version: "2.0",
  classification: "security",
  severity: "Important",
  ids: [],
  origin: "baseos",
  sizeBytes: null,
  rebootRequired: null,
  ...o,
});
const scan = (updates: PendingUpdate[]): PatchScan => ({
  inventory: { mode: "same", hash: "0".repeat(64) },
  updates,
  sources: ["dnf"],
  problems: [],
  durationMs: 1,
  peakRssBytes: null,
});
const names = async (path: string) =>
  ((await (await srv.api(path)).json()) as { items: { name: string; ids: string[] }[] }).items.map((u) => u.name).sort();

beforeAll(async () => {
  srv = await startTestServer();
  web = (await enrollDevice(srv, "search-web", [])).deviceId;
  db = (await enrollDevice(srv, "search-db", [])).deviceId;
  const org = (await srv.sql`select organization_id as id from devices where id = ${web}`)[0]?.id as string;
  await recordScan(
    srv.sql,
    org,
    web,
    scan([
      update({ name: "openssl-libs", ids: ["RHSA-2026:1001", "CVE-2026-1001", "CVE-2026-1002"] }),
      update({ name: "curl", title: "curl: fix for the HTTP/2 stream reset", ids: ["RHSA-2026:1002", "CVE-2026-2001"] }),
      update({
        source: "wua",
        name: "KB5034441",
        title: "2024-01 Security Update for Windows (KB5034441)",
        ids: ["KB5034441", "CVE-2024-20666"],
      }),
    ]),
    new Date(),
  );
  await recordScan(srv.sql, org, db, scan([update({ name: "openssl-libs", ids: ["RHSA-2026:1001", "CVE-2026-1001"] })]), new Date());
}, 120_000);
afterAll(() => srv.stop());

describe("searching updates", () => {
  test("by CVE id, any case: every device's update that fixes it", async () => {
    expect(await names("/api/v1/updates?q=CVE-2026-1001")).toEqual(["openssl-libs", "openssl-libs"]);
    expect(await names("/api/v1/updates?q=cve-2026-2001")).toEqual(["curl"]);
    expect(await names("/api/v1/updates?q=CVE-2026-9999")).toEqual([]);
    // a CVE id is one id exactly, not the start of a longer one
    expect(await names("/api/v1/updates?q=CVE-2026-100")).toEqual([]);
  });
  test("by advisory id, by KB with or without its prefix, by name and by title words", async () => {
    expect(await names("/api/v1/updates?q=RHSA-2026%3A1002")).toEqual(["curl"]);
    expect(await names("/api/v1/updates?q=KB5034441")).toEqual(["KB5034441"]);
    expect(await names("/api/v1/updates?q=5034441")).toEqual(["KB5034441"]);
    expect(await names("/api/v1/updates?q=openssl")).toEqual(["openssl-libs", "openssl-libs"]);
    expect(await names("/api/v1/updates?q=stream%20reset")).toEqual(["curl"]);
    // LIKE's wildcards are searched for as they are
    expect(await names("/api/v1/updates?q=open_sl")).toEqual([]);
  });
  test("on one device, with the ids in each row", async () => {
    const res = await srv.api(`/api/v1/devices/${db}/updates?q=CVE-2026-1001`);
    const items = ((await res.json()) as { items: { name: string; ids: string[] }[] }).items;
    expect(items.map((u) => [u.name, u.ids])).toEqual([["openssl-libs", ["RHSA-2026:1001", "CVE-2026-1001"]]]);
    expect(await names(`/api/v1/devices/${db}/updates?q=curl`)).toEqual([]);
  });
  test("a search with shell or SQL metacharacters, or too long, is 422 and runs nothing", async () => {
    for (const bad of ["%27%3B--", "a%25", `${"x".repeat(200)}`, "%24(id)", "a%7Cb", "%20lead"])
      expect([bad, (await srv.api(`/api/v1/updates?q=${bad}`)).status]).toEqual([bad, 422]);
    expect((await srv.api(`/api/v1/devices/${web}/updates?q=%3Brm`)).status).toBe(422);
  });
});
