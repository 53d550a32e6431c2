/**
 * The audit log's first page at size: a fresh embedded database, `--entries` entries of one
 * organization (a tenth `script.updated`, the rest `command.run`, one a second), vacuumed and analyzed,
 * then the median of 10 runs (after 2 warm-up runs) of the page read and the counts it makes.
 *
 *   bun scripts/bench-audit.ts --entries 2000000
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startEmbeddedPostgres } from "../db/embedded.ts";
import { openDatabase } from "../db/index.ts";
import { countAudit, listAudit } from "../server/audit/store.ts";

const { values: opt } = parseArgs({ options: { entries: { type: "string", default: "2000000" } } });
const dir = mkdtempSync(join(tmpdir(), "sentpulse-bench-audit-"));
const pg = await startEmbeddedPostgres(dir);
const db = await openDatabase({ url: pg.url, dataDir: dir });
const sql = db.sql;
try {
  const [org] = await sql<{ id: string }[]>`insert into organizations (name) values ('Busy MSP') returning id`;
  const entries = Number(opt.entries);
  await sql`
    insert into audit_log (organization_id, actor_type, actor_name, action, details, created_at)
    select ${org!.id}, 'schedule', 'nightly', case when g % 10 = 0 then 'script.updated' else 'command.run' end, '{}'::jsonb,
      now() - make_interval(secs => ${entries} - g)
    from generate_series(1, ${entries}) g`;
  await sql`vacuum analyze audit_log`;
  console.log(JSON.stringify({ entries, loadavg: loadavg().map((n) => Number(n.toFixed(2))) }));
  const time = async (name: string, read: () => Promise<unknown>) => {
    for (let i = 0; i < 2; i++) await read();
    const t: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      await read();
      t.push(performance.now() - t0);
    }
    t.sort((a, b) => a - b);
    console.log(JSON.stringify({ read: name, medianMs: Number((t[5] ?? 0).toFixed(2)) }));
  };
  const id = org!.id;
  await time("first page (51 rows), no count", () => listAudit(sql, id, {}, { limit: 51 }));
  await time("first page with its count capped at 10,000", () => listAudit(sql, id, {}, { limit: 51, countCap: 10_000 }));
  await time("every entry counted", () => countAudit(sql, id, {}));
  await time("count capped at 10,000", () => countAudit(sql, id, {}, 10_000));
  await time("action=script.updated: every match counted", () => countAudit(sql, id, { action: "script.updated" }));
  await time("action=script.updated: capped at 10,000", () => countAudit(sql, id, { action: "script.updated" }, 10_000));
} finally {
  await db.close();
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
