import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { freshDatabase } from "../server/testing/harness.ts";
import { decideEngine, loadMigrations, migrate, migrationsApplied, preloadsTimescale } from "./migrate.ts";

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

describe("plans", () => {
  test("the statements run per flush and per handshake keep one generic plan per connection (a redefinition drops it)", async () => {
    const url = await freshDatabase();
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    await migrate(sql);
    const rows = await sql<{ name: string; config: string[] | null }[]>`
      select proname as name, proconfig as config from pg_proc
      where proname in ('telemetry_flush', 'rule_device_facts', 'device_signing_keys') order by proname`;
    expect(rows.map((r) => r.name)).toEqual(["device_signing_keys", "rule_device_facts", "telemetry_flush"]);
    for (const r of rows) expect(r.config).toContain("plan_cache_mode=force_generic_plan");
    await sql.end();
  });
});

describe("choosing the engine", () => {
  const base = { saved: undefined, available: true, preloaded: true, allowTimescale: true } as const;

  test("a new database takes TimescaleDB when it is available, loaded and allowed; plain PostgreSQL otherwise", () => {
    expect(decideEngine(base)).toEqual({ engine: "timescale" });
    expect(decideEngine({ ...base, available: false, preloaded: false })).toEqual({ engine: "native" });
    expect(decideEngine({ ...base, allowTimescale: false, preloaded: false })).toEqual({ engine: "native" });
    // a role that may not read shared_preload_libraries: trust it (creating the extension says more)
    expect(decideEngine({ ...base, preloaded: undefined })).toEqual({ engine: "timescale" });
  });

  test("available but not in shared_preload_libraries: one clear error with a code, not a dropped connection", () => {
    for (const saved of [undefined, "timescale"] as const) {
      let err: unknown;
      try {
        decideEngine({ ...base, saved, preloaded: false });
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: "TIMESCALE_NOT_PRELOADED" });
      expect(String((err as Error).message)).toContain("shared_preload_libraries");
    }
  });

  test("the saved engine wins; SENTPULSE_TIMESCALE=off on a TimescaleDB database says it stays on TimescaleDB", () => {
    expect(decideEngine({ ...base, saved: "native" })).toEqual({ engine: "native" });
    const off = decideEngine({ ...base, saved: "timescale", allowTimescale: false });
    expect(off.engine).toBe("timescale");
    expect(off.warning).toContain("SENTPULSE_TIMESCALE=off");
    expect(decideEngine({ ...base, saved: "timescale" })).toEqual({ engine: "timescale" });
  });

  test("shared_preload_libraries values are read as PostgreSQL lists", () => {
    expect(preloadsTimescale("timescaledb")).toBe(true);
    expect(preloadsTimescale("pg_stat_statements, timescaledb")).toBe(true);
    expect(preloadsTimescale('"$libdir/timescaledb",pg_cron')).toBe(true);
    expect(preloadsTimescale("")).toBe(false);
    expect(preloadsTimescale("pg_stat_statements,timescaledb_toolkit")).toBe(false);
  });

  test("on this PostgreSQL (no TimescaleDB) the probe reads the real settings and picks the native engine", async () => {
    const url = await freshDatabase();
    const sql = postgres(url, { max: 2, onnotice: () => {} });
    const warnings: string[] = [];
    expect(await migrate(sql, { onWarning: (m) => warnings.push(m) })).toBe("native");
    expect(warnings).toEqual([]);
    await sql.end();
  });

  test("a database set up on TimescaleDB, on a server that no longer preloads it: the error names the setting", async () => {
    const url = await freshDatabase();
    const sql = postgres(url, { max: 2, onnotice: () => {} });
    await sql`create table schema_settings (key text primary key, value text not null)`;
    await sql`insert into schema_settings (key, value) values ('engine', 'timescale')`;
    const err = await migrate(sql).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "TIMESCALE_NOT_PRELOADED" });
    expect(String((err as Error).message)).toContain("shared_preload_libraries");
    await sql.end();
  });

  test("TimescaleDB files: no hash dimension for new installs; 00015 runs after the aggregate it changes exists", () => {
    const all = loadMigrations();
    const hypertable = all.find((m) => m.version === 2 && m.engine === "timescale");
    expect(hypertable?.sql).not.toContain("add_dimension");
    const fidelity = all.find((m) => m.version === 15 && m.engine === "timescale");
    expect(fidelity?.transactional).toBe(false);
    expect(fidelity?.sql).toContain("start_offset => interval '7 days'");
    expect(fidelity?.sql).toContain("add_retention_policy('device_telemetry', interval '8 days')");
  });
});
