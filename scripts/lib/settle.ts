import { loadavg } from "node:os";
import type { Sql } from "postgres";

/**
 * After seeding: PostgreSQL's dirty pages written (a checkpoint) and the machine calm again (the
 * 1-minute load average under `below`, waiting at most `maxS`), so a measurement does not start in
 * the seeding's wake (autovacuum of what was just written, the checkpointer, a load average of 5–10).
 * Returns the load average it ends at and how long it waited.
 */
export async function settle(sql: Sql, below = 1.5, maxS = 180): Promise<{ loadavg: number; waitedS: number }> {
  const t0 = performance.now();
  await sql`checkpoint`.catch(() => {}); // needs pg_checkpoint (the embedded database's owner has it)
  while ((loadavg()[0] ?? 0) > below && performance.now() - t0 < maxS * 1000) await Bun.sleep(2000);
  return { loadavg: Number(loadavg()[0]?.toFixed(2)), waitedS: Math.round((performance.now() - t0) / 1000) };
}
