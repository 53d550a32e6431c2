import type { Sql } from "postgres";

/** A user's TOTP state: the sealed secret (pending while `enabledAt` is null) and the last step used. */
export interface TotpRow {
  secretSealed: string | null;
  enabledAt: Date | null;
  lastStep: number;
}

/** The user's TOTP row (every user has one, kept by a trigger); undefined only for an unknown user. */
export async function getTotp(sql: Sql, userId: string): Promise<TotpRow | undefined> {
  const [row] = await sql<TotpRow[]>`
    select secret_sealed as "secretSealed", enabled_at as "enabledAt", last_step::float8 as "lastStep"
    from user_totp where user_id = ${userId}`;
  return row;
}

/** Starts (or restarts) an enrollment with a new sealed secret; false when TOTP is already enabled. */
export async function savePendingTotp(sql: Sql, userId: string, secretSealed: string): Promise<boolean> {
  const rows = await sql`
    update user_totp set secret_sealed = ${secretSealed}, last_step = 0, updated_at = now()
    where user_id = ${userId} and enabled_at is null returning 1`;
  return rows.count > 0;
}

/**
 * Enables the pending secret whose code matched `step` and replaces the recovery codes, in one
 * transaction; false when there was no pending secret (enabled meanwhile, or never set up).
 */
export async function enableTotp(sql: Sql, userId: string, step: number, codeHashes: Buffer[]): Promise<boolean> {
  return sql.begin(async (t) => {
    const tx = t as unknown as Sql;
    const rows = await tx`
      update user_totp set enabled_at = now(), last_step = ${step}, updated_at = now()
      where user_id = ${userId} and enabled_at is null and secret_sealed is not null returning 1`;
    if (rows.count === 0) return false;
    await tx`delete from user_recovery_codes where user_id = ${userId}`;
    await tx`insert into user_recovery_codes ${tx(codeHashes.map((codeHash) => ({ user_id: userId, code_hash: codeHash })))}`;
    return true;
  });
}

/** Records that a code of `step` was used; false when that step (or a later one) was used already (a replay). */
export async function useTotpStep(sql: Sql, userId: string, step: number): Promise<boolean> {
  const rows = await sql`
    update user_totp set last_step = ${step}, updated_at = now()
    where user_id = ${userId} and enabled_at is not null and last_step < ${step} returning 1`;
  return rows.count > 0;
}

/** Spends one recovery code; false when the user has no unused code with that hash. */
export async function useRecoveryCode(sql: Sql, userId: string, codeHash: Buffer): Promise<boolean> {
  const rows = await sql`
    update user_recovery_codes set used_at = now()
    where user_id = ${userId} and code_hash = ${codeHash} and used_at is null returning 1`;
  return rows.count > 0;
}

/** How many unused recovery codes the user has left. */
export async function recoveryCodesLeft(sql: Sql, userId: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from user_recovery_codes where user_id = ${userId} and used_at is null`;
  return row?.n ?? 0;
}

/** Turns TOTP off for the user (secret and recovery codes gone); false when it was not on or pending. */
export async function clearTotp(sql: Sql, userId: string): Promise<boolean> {
  return sql.begin(async (t) => {
    const tx = t as unknown as Sql;
    const rows = await tx`
      update user_totp set secret_sealed = null, enabled_at = null, last_step = 0, updated_at = now()
      where user_id = ${userId} and secret_sealed is not null returning 1`;
    await tx`delete from user_recovery_codes where user_id = ${userId}`;
    return rows.count > 0;
  });
}

/** Whether the organization requires two-factor sign-in (false until an admin turns it on). */
export async function requiresTotp(sql: Sql, organizationId: string): Promise<boolean> {
  const [row] = await sql<{ requireTotp: boolean }[]>`
    select require_totp as "requireTotp" from organization_sign_in where organization_id = ${organizationId}`;
  return row?.requireTotp ?? false;
}

/** Sets the organization's "require two-factor sign-in" policy. */
export async function setRequiresTotp(sql: Sql, organizationId: string, requireTotp: boolean): Promise<void> {
  await sql`
    insert into organization_sign_in (organization_id, require_totp) values (${organizationId}, ${requireTotp})
    on conflict (organization_id) do update set require_totp = excluded.require_totp, updated_at = now()`;
}
