import type { Sql } from "postgres";

export interface OpsCounts {
  /** Unfinished commands by state (finished ones are history and are not counted at scrape time). */
  commands: Record<string, number>;
  outboxPending: number;
  deadLetters: number;
  /** Connections named `sentpulse` to this database by state, as PostgreSQL sees them (every server node). */
  connections: Record<string, number>;
}

/** What `/metrics` reads from the database, in one round trip over small partial indexes. */
export async function opsCounts(sql: Sql): Promise<OpsCounts> {
  const [row] = await sql<OpsCounts[]>`
    select
      coalesce((select json_object_agg(status, n) from (
        select status, count(*)::int as n from commands where status in ('queued', 'sent', 'running') group by status) c), '{}') as commands,
      (select count(*)::int from notification_outbox where status = 'pending') as "outboxPending",
      (select count(*)::int from notification_outbox where status = 'dead') as "deadLetters",
      coalesce((select json_object_agg(state, n) from (
        select coalesce(state, 'unknown') as state, count(*)::int as n from pg_stat_activity
        where application_name = 'sentpulse' and datname = current_database() group by 1) a), '{}') as connections`;
  return row ?? { commands: {}, outboxPending: 0, deadLetters: 0, connections: {} };
}
