import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Sql } from "postgres";

/** Storage engine for time series: TimescaleDB hypertables, or native partitions and a rollup job. */
export type Engine = "timescale" | "native";

export interface MigrateOptions {
  /** False (`SENTPULSE_TIMESCALE=off`): a new database uses the native engine even when TimescaleDB is there. */
  allowTimescale?: boolean;
  /** Told what an operator should know at start (e.g. a setting that cannot take effect). */
  onWarning?: (message: string) => void;
}

/** TimescaleDB is installed on the PostgreSQL server but its library is not preloaded. */
class TimescaleNotPreloaded extends Error {
  readonly code = "TIMESCALE_NOT_PRELOADED";
}

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
export async function migrate(sql: Sql, opts: MigrateOptions = {}, all = loadMigrations()): Promise<Engine> {
  const engine = await sql.begin(async (t) => {
    const tx = t as unknown as Sql;
    await tx`select pg_advisory_xact_lock(${LOCK_KEY})`;
    await tx`create table if not exists schema_migrations (
      version integer primary key,
      name text not null,
      applied_at timestamptz not null default now())`;
    await tx`create table if not exists schema_settings (key text primary key, value text not null)`;
    const engine = await chooseEngine(tx, opts);
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
async function chooseEngine(tx: Sql, opts: MigrateOptions): Promise<Engine> {
  const [saved] = await tx<{ value: Engine }[]>`select value from schema_settings where key = 'engine'`;
  const [available] = await tx`select 1 as ok from pg_available_extensions where name = 'timescaledb'`;
  // hidden (no row) unless the role is a superuser or has pg_read_all_settings
  const [preload] = await tx<{ setting: string }[]>`select setting from pg_settings where name = 'shared_preload_libraries'`;
  const { engine, warning } = decideEngine({
    saved: saved?.value,
    available: Boolean(available),
    preloaded: preload ? preloadsTimescale(preload.setting) : undefined,
    allowTimescale: opts.allowTimescale ?? true,
  });
  if (warning) opts.onWarning?.(warning);
  if (!saved) await tx`insert into schema_settings (key, value) values ('engine', ${engine})`;
  return engine;
}

/** True when a `shared_preload_libraries` value lists TimescaleDB's loader (`timescaledb`, quoted or with a path). */
export function preloadsTimescale(setting: string): boolean {
  return setting.split(",").some((lib) => /(^|\/)timescaledb$/.test(lib.trim().replace(/^"|"$/g, "")));
}

/**
 * The engine for this start, from what the database says: the saved engine wins (switching would
 * strand data); a new database gets TimescaleDB when it is available and allowed. Creating or
 * using the extension without its library preloaded ends the connection with a FATAL error, so
 * that case is refused here with one clear message. `preloaded` is undefined when the role may
 * not read the setting.
 */
export function decideEngine(s: {
  saved: Engine | undefined;
  available: boolean;
  preloaded: boolean | undefined;
  allowTimescale: boolean;
}): { engine: Engine; warning?: string } {
  const notLoaded = () =>
    new TimescaleNotPreloaded(
      "TimescaleDB is installed on this PostgreSQL server but not loaded: add 'timescaledb' to shared_preload_libraries " +
        "in postgresql.conf and restart PostgreSQL" +
        (s.saved === "timescale"
          ? " (this database already uses TimescaleDB)"
          : ", or set SENTPULSE_TIMESCALE=off to use plain PostgreSQL"),
    );
  if (s.saved === "native") return { engine: "native" };
  if (s.saved === "timescale") {
    if (s.preloaded === false) throw notLoaded();
    return s.allowTimescale
      ? { engine: "timescale" }
      : {
          engine: "timescale",
          warning: "SENTPULSE_TIMESCALE=off has no effect: this database was set up on TimescaleDB at its first start and stays on it",
        };
  }
  if (!s.allowTimescale || !s.available) return { engine: "native" };
  if (s.preloaded === false) throw notLoaded();
  return { engine: "timescale" };
}
