import { afterAll, setDefaultTimeout } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedPostgres } from "../../db/embedded.ts";

/**
 * Preloaded once per `bun test` run: one real PostgreSQL (embedded) for the whole run; each test
 * file creates its own database on it (see harness.ts).
 */
// Integration tests start a real PostgreSQL, servers and agent processes. bunfig has no timeout key:
// scripts/test passes --timeout 120000; this covers a plain `bun test <one file>` (it applies to the
// first file of a run only).
setDefaultTimeout(120_000);
const dir = mkdtempSync(join(tmpdir(), "sentpulse-test-"));
const pg = await startEmbeddedPostgres(dir);
process.env.SENTPULSE_TEST_PG_URL = pg.url.replace(/\/sentpulse$/, "/postgres");

afterAll(async () => {
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
});
