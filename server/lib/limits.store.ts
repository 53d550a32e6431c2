import type { PendingQuery, Row, Sql } from "postgres";

/**
 * A row limit written into the statement, not sent as a parameter. Under a parameter the planner
 * assumes a tenth of the table, so a prepared statement's generic plan looks costly and PostgreSQL
 * plans every execution again (about 0.8 ms of a 1.5 ms device-list page at 100,000 devices).
 * For limits the code fixes (constants); a limit a client chooses goes through `pageRows`.
 */
export function fixedLimit(sql: Sql, n: number) {
  if (!Number.isInteger(n) || n < 0 || n > 100_000) throw new Error(`bad row limit ${n}`);
  return sql.unsafe(String(n));
}

/**
 * A page size a client chooses, as a `fixedLimit`. Each distinct limit is a distinct prepared
 * statement on every pooled connection, and neither postgres.js nor PostgreSQL evicts them, so a
 * client could otherwise mint one per size. The limit is rounded up to 1, 2 or 5 times a power of
 * ten (a dozen values up to 100,000): `limit` goes into the statement, `take` keeps the first `n` rows.
 */
export function pageRows(sql: Sql, n: number) {
  let rounded = 1;
  for (let scale = 1; rounded < n; scale *= 10)
    for (const step of [1, 2, 5]) {
      rounded = step * scale;
      if (rounded >= n) break;
    }
  return {
    limit: fixedLimit(sql, n > 100_000 || !Number.isInteger(n) ? n : rounded),
    take: <T>(rows: readonly T[]): T[] => rows.slice(0, n),
  };
}

/**
 * How many rows `matches` (a `select 1 from …` fragment) yields: all of them, or up to `cap` with
 * `exact: false` past it. A list's first page counts this way so a big match is never counted whole
 * on every request (the device list, the audit log, alerts).
 */
export async function countUpTo(sql: Sql, matches: PendingQuery<Row[]>, cap?: number): Promise<{ n: number; exact: boolean }> {
  const limit = cap === undefined ? sql`` : sql`limit ${fixedLimit(sql, cap + 1)}`;
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from (${matches} ${limit}) x`;
  const n = row?.n ?? 0;
  return cap !== undefined && n > cap ? { n: cap, exact: false } : { n, exact: true };
}
