import type { Sql } from "postgres";

/** Replaces the user's password hash (argon2id, made by the caller). */
export async function setPasswordHash(sql: Sql, userId: string, passwordHash: string): Promise<void> {
  await sql`update users set password_hash = ${passwordHash} where id = ${userId}`;
}
