import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Sql } from "postgres";

/** Storage engine for time series: TimescaleDB hypertables, or native partitions and a rollup job. */
export type Engine = "timescale" | "native";

export interface Migration {
  version: number;
  name: string;
  /** Which engine the file is for; `undefined` = both. */
  engine?: Engine;
  sql: string;
  /** Marked with `-- sentpulse:no-transaction` on its first line (e.g. continuous aggregates). */
  transactional: boolean;
}

const FILE = /^(\d{5})_([a-z0-9_]+?)(?:\.(timescale|native))?\.sql$/;
const LOCK_KEY = 7_336_001; // any constant shared by every SENTpulse process
const MIGRATIONS_DIR = join(import.meta.dir, "migrations");

/** Reads and orders the migration files; gaps and duplicate versions throw. */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .map((file) => {
      const m = FILE.exec(file);
      if (!m) throw new Error(`migration file name not understood: ${file}`);
      const sql = readFileSync(join(dir, file), "utf8");
      return {
        version: Number(m[1]),
        name: m[2] ?? file,
        engine: m[3] as Engine | undefined,
        sql,
        transactional: !sql.startsWith("-- sentpulse:no-transaction"),
      };
    })
    .sort((a, b) => a.version - b.version || (a.engine ?? "").localeCompare(b.engine ?? ""));
  let expected = 1;
  for (const m of migrations) {
    if (m.version === expected) expected++;
    else if (m.version !== expected - 1 || !m.engine)
      throw new Error(`migration gap or duplicate at ${String(m.version).padStart(5, "0")}_${m.name}`);
  }
  return migrations;
}

/**
 * Applies pending migrations. Transactional files run together in one transaction under an
 * advisory lock, so two servers starting at once apply them once; files that cannot run in a
 * transaction run after it, one by one under a session-level advisory lock. Returns the engine.
 */
export async function migrate(sql: Sql, opts: { allowTimescale?: boolean } = {}, all = loadMigrations()): Promise<Engine> {
  const engine = await sql.begin(async (t) => {
    const tx = t as unknown as Sql;
    await tx`select pg_advisory_xact_lock(${LOCK_KEY})`;
    await tx`create table if not exists schema_migrations (
      version integer primary key,
      name text not null,
      applied_at timestamptz not null default now())`;
    await tx`create table if not exists schema_settings (key text primary key, value text not null)`;
    const engine = await chooseEngine(tx, opts.allowTimescale ?? true);
    const done = new Set((await tx`select version from schema_migrations`).map((r) => r.version as number));
    for (const m of forEngine(all, engine)) {
      if (done.has(m.version) || !m.transactional) continue;
      await tx.unsafe(m.sql);
      await tx`insert into schema_migrations (version, name) values (${m.version}, ${m.name})`;
    }
    return engine;
  });
  const outside = forEngine(all, engine).filter((m) => !m.transactional);
  if (outside.length === 0) return engine;
  const conn = await sql.reserve();
  try {
    await conn`select pg_advisory_lock(${LOCK_KEY})`;
    const done = new Set((await conn`select version from schema_migrations`).map((r) => r.version as number));
    for (const m of outside) {
      if (done.has(m.version)) continue;
      await conn.unsafe(m.sql);
      await conn`insert into schema_migrations (version, name) values (${m.version}, ${m.name})`;
    }
  } finally {
    await conn`select pg_advisory_unlock(${LOCK_KEY})`;
    conn.release();
  }
  return engine;
}

/** True when every migration for the recorded engine has been applied (used by /readyz). */
export async function migrationsApplied(sql: Sql, all = loadMigrations()): Promise<boolean> {
  const [row] = await sql`select value from schema_settings where key = 'engine'`;
  if (!row) return false;
  const wanted = forEngine(all, row.value as Engine).map((m) => m.version);
  const done = new Set((await sql`select version from schema_migrations`).map((r) => r.version as number));
  return wanted.every((v) => done.has(v));
}

function forEngine(all: Migration[], engine: Engine): Migration[] {
  return all.filter((m) => !m.engine || m.engine === engine);
}

/** The engine is chosen once, on the first migration, and kept: switching later would strand data. */
async function chooseEngine(tx: Sql, allowTimescale: boolean): Promise<Engine> {
  const [saved] = await tx`select value from schema_settings where key = 'engine'`;
  if (saved) return saved.value as Engine;
  const [available] = await tx`select 1 as ok from pg_available_extensions where name = 'timescaledb'`;
  const engine: Engine = available && allowTimescale ? "timescale" : "native";
  await tx`insert into schema_settings (key, value) values ('engine', ${engine})`;
  return engine;
}
