import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase, socketPath } from "./index.ts";

describe("the database's Unix socket", () => {
  test("a libpq-style ?host=<directory> names the socket; other URLs are left as they are", () => {
    expect(socketPath("postgres://u:p@localhost:5433/db?host=%2Frun%2Fpostgresql")).toEqual({
      url: "postgres://u:p@localhost:5433/db",
      path: "/run/postgresql/.s.PGSQL.5433",
    });
    expect(socketPath("postgres://u:p@localhost/db?host=/tmp&sslmode=disable")).toEqual({
      url: "postgres://u:p@localhost/db?sslmode=disable",
      path: "/tmp/.s.PGSQL.5432",
    });
    expect(socketPath("postgres://u:p@db.example:5432/db?sslmode=require")).toEqual({
      url: "postgres://u:p@db.example:5432/db?sslmode=require",
    });
    expect(socketPath("postgres://u:p@127.0.0.1:5432/db")).toEqual({ url: "postgres://u:p@127.0.0.1:5432/db" });
  });

  test("the server reaches its embedded PostgreSQL over the socket, not loopback TCP", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sentpulse-socket-"));
    const db = await openDatabase({ dataDir: dir, poolSize: 1 });
    try {
      // inet_server_addr() is null on a Unix-socket connection
      const [row] = await db.sql<{ addr: string | null }[]>`select inet_server_addr()::text as addr`;
      expect(row?.addr).toBeNull();
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
