import { randomInt } from "node:crypto";
import { Secret, TOTP } from "otpauth";
import { sha256 } from "../lib/crypto.ts";

/**
 * TOTP (RFC 6238) as every authenticator app speaks it: SHA-1, 6 digits, 30-second steps, a 160-bit
 * secret. A code is accepted for the step before, the current and the next one (clock drift), and
 * only once: callers record the step a code matched (see totp.store.ts `useTotpStep`).
 */
const PERIOD_S = 30;
const ISSUER = "SENTpulse";
/** How many recovery codes a user gets at enrollment. */
const RECOVERY_CODE_COUNT = 10;
/** Recovery code letters: no 0/o, 1/l/i, so a code read off paper is typed right. */
const ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz";

/** A fresh secret, base32 (what the authenticator app stores). */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

const totpOf = (secret: string, label = "") =>
  new TOTP({ issuer: ISSUER, label, algorithm: "SHA1", digits: 6, period: PERIOD_S, secret: Secret.fromBase32(secret) });

/** The `otpauth://totp/…` URL an authenticator app scans (as a QR code) to add the account. */
export function otpauthUrl(secret: string, email: string): string {
  return totpOf(secret, email).toString();
}

/** True for something shaped like a TOTP code (6 digits); anything else is tried as a recovery code. */
export function isTotpCode(code: string): boolean {
  return /^\d{6}$/.test(code);
}

/** The time step (30 s since the epoch) `code` is valid for at `nowMs`, within ±1 step; null when it is not. */
export function matchStep(secret: string, code: string, nowMs = Date.now()): number | null {
  if (!isTotpCode(code)) return null;
  const delta = totpOf(secret).validate({ token: code, timestamp: nowMs, window: 1 });
  return delta === null ? null : Math.floor(nowMs / 1000 / PERIOD_S) + delta;
}

/** Ten new recovery codes, `xxxx-xxxx-xxxx` (60 random bits each), shown to the user once. */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const chars = Array.from({ length: 12 }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");
    return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8)}`;
  });
}

/** What a recovery code is stored as: SHA-256 of the code lower-cased without dashes or spaces. */
export function recoveryCodeHash(code: string): Buffer {
  return sha256(code.toLowerCase().replace(/[\s-]/g, ""));
}
