import type { Sql } from "postgres";
import type { SecretBox } from "../notifications/crypto.ts";
import { isTotpCode, matchStep, recoveryCodeHash } from "./totp.ts";
import { type TotpRow, useRecoveryCode, useTotpStep } from "./totp.store.ts";

/** How a second factor was proven. */
export type SecondFactor = "totp" | "recovery_code";

/**
 * Checks and spends a second factor of a user with TOTP enabled: a 6-digit code (valid for its step
 * and not used before: a replay inside the window is refused) or an unused recovery code (spent
 * now). Null when neither matches.
 */
export async function spendSecondFactor(
  sql: Sql,
  secrets: SecretBox,
  userId: string,
  totp: TotpRow | undefined,
  code: string,
): Promise<SecondFactor | null> {
  if (!totp?.enabledAt || !totp.secretSealed) return null;
  if (isTotpCode(code)) {
    const step = matchStep(secrets.open(totp.secretSealed), code);
    return step !== null && (await useTotpStep(sql, userId, step)) ? "totp" : null;
  }
  return (await useRecoveryCode(sql, userId, recoveryCodeHash(code.slice(0, 32)))) ? "recovery_code" : null;
}
