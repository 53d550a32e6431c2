import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import postgres, { type Sql } from "postgres";
import { freePort } from "../../db/embedded.ts";
import { migrate } from "../../db/migrate.ts";
import type { Config } from "../config.ts";
import { treaty } from "@elysiajs/eden";
import type { App } from "../app.ts";
import { startServer } from "../main.ts";

export const ADMIN = { email: "admin@example.com", password: "correct horse battery" };
const ROOT = resolve(import.meta.dir, "../..");

function adminUrl(): string {
  const url = process.env.SENTPULSE_TEST_PG_URL;
  if (!url) throw new Error("tests need the preload server/testing/setup.ts (see bunfig.toml)");
  return url;
}

/** A fresh, empty database on the test PostgreSQL; returns its URL. */
export async function freshDatabase(): Promise<string> {
  const name = `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  return adminUrl().replace(/\/postgres$/, `/${name}`);
}

/** A migrated fresh database and a pool on it, for store-level tests. */
export async function testSql(): Promise<Sql> {
  const sql = postgres(await freshDatabase(), { max: 5, onnotice: () => {}, transform: { undefined: null } });
  await migrate(sql);
  return sql;
}

export type TestServer = Awaited<ReturnType<typeof startTestServer>>;

/** The real server on a free loopback port against a fresh database, with an admin signed in. */
export async function startTestServer(overrides: Partial<Config> = {}, databaseUrl?: string) {
  const port = overrides.port ?? freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "sentpulse-srv-"));
  const dbUrl = databaseUrl ?? (await freshDatabase());
  const server = await startServer({
    host: "127.0.0.1",
    port,
    dataDir,
    databaseUrl: dbUrl,
    publicUrl: `http://127.0.0.1:${port}`,
    adminEmail: ADMIN.email,
    adminPassword: ADMIN.password,
    logLevel: "error",
    agentDistDir: join(ROOT, "dist/agent"),
    ...overrides,
  });
  const url = `http://127.0.0.1:${port}`;
  const cookie = await login(url, ADMIN.email, ADMIN.password);
  return {
    url,
    port,
    databaseUrl: dbUrl,
    server,
    sql: server.services.sql,
    cookie,
    /**
     * A request to the app as the signed-in admin (JSON body when given), handed to the app itself
     * (`app.handle`, no socket): route tests need no network. Sockets and timing tests use `url`.
     */
    api(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) {
      return server.app.handle(
        new Request(`${url}${path}`, {
          method: init.method ?? (init.body === undefined ? "GET" : "POST"),
          headers: { cookie, ...(init.body === undefined ? {} : { "content-type": "application/json" }), ...init.headers },
          body: init.body === undefined ? undefined : JSON.stringify(init.body),
        }),
      );
    },
    /** The typed Eden client on the app itself (no socket), signed in as the admin. */
    client: treaty<App>(server.app, { headers: { cookie } }),
    async stop() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Signs in and returns the session cookie header value. */
export async function login(url: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
}

let building: Promise<string> | undefined;

/** The compiled Linux agent, built once per test run (rebuilt when any agent source is newer). */
export function agentBinary(): Promise<string> {
  building ??= (async () => {
    const out = join(ROOT, "dist/agent/sentpulse-agent-linux-x64");
    const sources = ["agent/**/*.ts", "server/protocol/**/*.ts", "server/version.ts"].flatMap((g) => [...new Bun.Glob(g).scanSync(ROOT)]);
    const newest = Math.max(0, ...sources.map((f) => statSync(join(ROOT, f)).mtimeMs));
    let built = 0;
    try {
      built = statSync(out).mtimeMs;
    } catch {}
    if (built === 0 || built < newest) {
      const p = Bun.spawn(["bun", "build", "agent/main.ts", "--compile", "--target=bun-linux-x64", "--outfile", out], {
        cwd: ROOT,
        stdout: "ignore",
        stderr: "pipe",
      });
      if ((await p.exited) !== 0) throw new Error(`agent build failed: ${await new Response(p.stderr).text()}`);
    }
    return out;
  })();
  return building;
}

/** Polls `check` every `everyMs` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 30_000,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await Bun.sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}
