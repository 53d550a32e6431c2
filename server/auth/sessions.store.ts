import type { Sql } from "postgres";

/** One signed-in browser of a user, as the user sees it in their list. */
export interface SessionRow {
  id: string;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  ip: string | null;
  userAgent: string | null;
  /** The session of the request that asks. */
  current: boolean;
}

/** The user's live sessions, newest use first; `current` marks the one whose token hash is given. */
export async function listSessions(sql: Sql, userId: string, currentHash: Buffer | null): Promise<SessionRow[]> {
  return sql<SessionRow[]>`
    select id, created_at as "createdAt", last_used_at as "lastUsedAt", expires_at as "expiresAt", ip,
           user_agent as "userAgent", coalesce(token_hash = ${currentHash}, false) as current
    from sessions where user_id = ${userId} and expires_at > now()
    order by last_used_at desc limit 200`;
}

/** Ends one session of the user; false when the user has no such session (another user's id too). */
export async function revokeSession(sql: Sql, userId: string, id: string): Promise<boolean> {
  const rows = await sql`delete from sessions where id = ${id} and user_id = ${userId} returning 1`;
  return rows.count > 0;
}

/** Ends every session of the user except the one with `keepHash` (after a password change); how many. */
export async function endOtherSessions(sql: Sql, userId: string, keepHash: Buffer | null): Promise<number> {
  const rows = await sql`
    delete from sessions where user_id = ${userId} and token_hash is distinct from ${keepHash} returning 1`;
  return rows.count;
}
