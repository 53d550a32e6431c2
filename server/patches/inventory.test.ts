import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Sql } from "postgres";
import { inventoryHash, inventoryPayload, loadSnapshot, normalise, saveSnapshot } from "../../agent/patch/inventory.ts";
import type { SoftwareItem } from "../protocol/patch.ts";
import { device, organization } from "../testing/fixtures.ts";
import { testSql } from "../testing/harness.ts";
import { applyInventory, deviceSoftware, storedInventoryHash } from "./inventory.store.ts";

/**
 * The inventory delta protocol end to end, with the agent's own functions and the server's store on a
 * real PostgreSQL: the first scan sends everything, later ones the changes against the server's hash,
 * nothing when nothing changed, and a delta the server lost (its hash stayed behind) makes the next
 * scan send everything again.
 */
let sql: Sql;
let org: { organizationId: string; siteId: string };
let deviceId: string;
const dir = mkdtempSync(join(tmpdir(), "sentpulse-inventory-"));

const pkg = (name: string, version: string): SoftwareItem => ({
  source: "dpkg",
  name,
  version,
  arch: "amd64",
  publisher: "Debian",
  installedAt: null,
});
const fleet = (n: number) => Array.from({ length: n }, (_, i) => pkg(`package-${String(i).padStart(4, "0")}`, `1.${i}-1`));

/** One agent scan against what the server holds now: what it sends, and whether the server stored it. */
async function scanOnce(items: SoftwareItem[], lose = false) {
  const { items: sorted, truncated } = normalise(items);
  const current = { hash: inventoryHash(sorted), items: sorted, truncated };
  const payload = inventoryPayload(current, loadSnapshot(dir), await storedInventoryHash(sql, deviceId));
  if (payload.mode !== "same") saveSnapshot(dir, { hash: current.hash, items: sorted });
  const stored = lose ? false : await applyInventory(sql, org.organizationId, deviceId, payload);
  return { payload, stored, bytes: JSON.stringify(payload).length };
}

beforeAll(async () => {
  sql = await testSql();
  org = await organization(sql);
  deviceId = await device(sql, org);
});
afterAll(async () => {
  await sql?.end();
  rmSync(dir, { recursive: true, force: true });
});

describe("software inventory as deltas", () => {
  test("first scan: the whole list; the server stores it with the same hash the agent computed", async () => {
    const r = await scanOnce(fleet(2000));
    expect(r.payload.mode).toBe("full");
    expect(r.stored).toBe(true);
    expect(await storedInventoryHash(sql, deviceId)).toBe(r.payload.hash);
    expect((await deviceSoftware(sql, deviceId, undefined, 5000)).total).toBe(2000);
  });

  test("nothing changed: `same`, a few dozen bytes", async () => {
    const r = await scanOnce(fleet(2000));
    expect(r.payload.mode).toBe("same");
    expect(r.bytes).toBeLessThan(120);
  });

  test("one upgraded, one removed, one installed: a delta with exactly those, applied on top", async () => {
    const items = fleet(2000).filter((i) => i.name !== "package-0005");
    items[10] = pkg("package-0011", "9.9-1");
    items.push(pkg("zoom", "5.17.11"));
    const r = await scanOnce(items);
    expect(r.payload.mode).toBe("delta");
    if (r.payload.mode !== "delta") return;
    expect(r.payload.added.map((i) => i.name)).toEqual(["zoom"]);
    expect(r.payload.changed.map((i) => `${i.name}=${i.version}`)).toEqual(["package-0011=9.9-1"]);
    expect(r.payload.removed.map((i) => i.name)).toEqual(["package-0005"]);
    expect(r.stored).toBe(true);
    const sw = await deviceSoftware(sql, deviceId, "zoom", 10);
    expect(sw.items.map((i) => i.version)).toEqual(["5.17.11"]);
    expect((await deviceSoftware(sql, deviceId, undefined, 5000)).total).toBe(2000);
    expect(await storedInventoryHash(sql, deviceId)).toBe(r.payload.hash);
  });

  test("a delta the server lost: the next scan sends the whole list, and a stale delta is refused", async () => {
    const before = await storedInventoryHash(sql, deviceId);
    const lost = await scanOnce([...fleet(2000), pkg("teams", "1.0")], true);
    expect(lost.payload.mode).toBe("delta");
    expect(await storedInventoryHash(sql, deviceId)).toBe(before);
    const next = await scanOnce([...fleet(2000), pkg("teams", "1.0")]);
    expect(next.payload.mode).toBe("full");
    expect(next.stored).toBe(true);
    expect((await deviceSoftware(sql, deviceId, "teams", 10)).total).toBe(1);
    // a delta computed against a base the server does not hold changes nothing
    if (lost.payload.mode === "delta")
      expect(await applyInventory(sql, org.organizationId, deviceId, { ...lost.payload, base: "0".repeat(64) })).toBe(false);
  });
});
