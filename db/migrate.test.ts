import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { freshDatabase } from "../server/testing/harness.ts";
import { loadMigrations, migrate, migrationsApplied } from "./migrate.ts";

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "sentpulse-mig-"));
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return dir;
}

describe("migration files", () => {
  test("the shipped migrations load in order with one file per engine where they differ", () => {
    const all = loadMigrations();
    expect(all[0]?.version).toBe(1);
    expect(
      all
        .filter((m) => m.version === 2)
        .map((m) => m.engine)
        .sort(),
    ).toEqual(["native", "timescale"]);
    expect(all.find((m) => m.name === "rollup" && m.engine === "timescale")?.transactional).toBe(false);
  });

  test("a gap in the numbering throws", () => {
    expect(() => loadMigrations(dirWith({ "00001_a.sql": "select 1", "00003_c.sql": "select 1" }))).toThrow(/gap/);
  });

  test("a duplicate version without engines throws; a bad name throws", () => {
    expect(() => loadMigrations(dirWith({ "00001_a.sql": "select 1", "00001_b.sql": "select 1" }))).toThrow();
    expect(() => loadMigrations(dirWith({ "1_a.sql": "select 1" }))).toThrow(/not understood/);
  });
});

describe("applying migrations", () => {
  test("two servers migrating the same empty database at once apply each migration once", async () => {
    const url = await freshDatabase();
    const a = postgres(url, { max: 2, onnotice: () => {} });
    const b = postgres(url, { max: 2, onnotice: () => {} });
    const [ea, eb] = await Promise.all([migrate(a), migrate(b)]);
    expect(ea).toBe("native");
    expect(eb).toBe("native");
    const rows = await a`select version, count(*)::int as n from schema_migrations group by version`;
    expect(rows.every((r) => r.n === 1)).toBe(true);
    expect(await migrationsApplied(a)).toBe(true);
    await a.end();
    await b.end();
  });

  test("a failing migration rolls back every pending one", async () => {
    const url = await freshDatabase();
    const sql = postgres(url, { max: 2, onnotice: () => {} });
    const files = loadMigrations(dirWith({ "00001_ok.sql": "create table ok_table (id int)", "00002_bad.sql": "create table broken (" }));
    await expect(migrate(sql, {}, files)).rejects.toThrow();
    const [t] = await sql`select to_regclass('ok_table') as t`;
    expect(t?.t).toBeNull();
    await sql.end();
  });

  test("running again is a no-op", async () => {
    const url = await freshDatabase();
    const sql = postgres(url, { max: 2, onnotice: () => {} });
    await migrate(sql);
    const [before] = await sql`select count(*)::int as n from schema_migrations`;
    await migrate(sql);
    const [after] = await sql`select count(*)::int as n from schema_migrations`;
    expect(after?.n).toBe(before?.n);
    await sql.end();
  });
});
