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

/**
 * A URL naming a Unix socket directory libpq's way (`?host=/run/postgresql`): the URL without it
 * and the socket's path (postgres.js takes the path as an option). Any other URL as it is.
 */
export function socketPath(url: string): { url: string; path?: string } {
  const q = url.indexOf("?");
  if (q < 0) return { url };
  const params = new URLSearchParams(url.slice(q + 1));
  const dir = params.get("host");
  if (!dir?.startsWith("/")) return { url };
  params.delete("host");
  const port = /:(\d+)\//.exec(url.slice(0, q))?.[1] ?? "5432";
  const rest = params.toString();
  return { url: `${url.slice(0, q)}${rest ? `?${rest}` : ""}`, path: `${dir}/.s.PGSQL.${port}` };
}

/** Connects (starting the embedded PostgreSQL when no URL is given) and applies migrations. */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  const embedded: EmbeddedDatabase | undefined = opts.url ? undefined : await startEmbeddedPostgres(opts.dataDir);
  const { url, path } = socketPath(opts.url ?? embedded?.socketUrl ?? "");
  const sql = postgres(url, {
    ...(path ? { path } : {}),
    max: opts.poolSize ?? 20,
    onnotice: () => {},
    // DateStyle ISO: what postgres.js's own date parsing and the device list's time text expect, whatever the server's default
    connection: { application_name: "sentpulse", DateStyle: "ISO, MDY" },
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
