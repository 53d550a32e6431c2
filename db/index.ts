import postgres, { type Sql } from "postgres";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "./embedded.ts";
import { type Engine, migrate } from "./migrate.ts";

export type { Sql } from "postgres";
export type { Engine } from "./migrate.ts";

export interface Database {
  sql: Sql;
  engine: Engine;
  /** Closes the pool and stops the embedded server when there is one. */
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** External PostgreSQL/TimescaleDB; when absent an embedded PostgreSQL is started under dataDir. */
  url?: string | undefined;
  dataDir: string;
  poolSize?: number;
  allowTimescale?: boolean;
  /** Told what an operator should know at start (see `migrate`). */
  onWarning?: (message: string) => void;
}

/** Connects (starting the embedded PostgreSQL when no URL is given) and applies migrations. */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  const embedded: EmbeddedDatabase | undefined = opts.url ? undefined : await startEmbeddedPostgres(opts.dataDir);
  const url = opts.url ?? embedded?.url ?? "";
  const sql = postgres(url, {
    max: opts.poolSize ?? 20,
    onnotice: () => {},
    connection: { application_name: "sentpulse" },
    transform: { undefined: null },
  });
  try {
    const engine = await migrate(sql, {
      allowTimescale: opts.allowTimescale ?? true,
      onWarning: opts.onWarning,
    });
    return {
      sql,
      engine,
      async close() {
        await sql.end({ timeout: 5 });
        await embedded?.stop();
      },
    };
  } catch (err) {
    await sql.end({ timeout: 1 });
    await embedded?.stop();
    throw err;
  }
}
