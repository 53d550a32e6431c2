import type { Sql } from "postgres";
import { newSecret, sha256 } from "../lib/crypto.ts";
import { recordLogin } from "../users/store.ts";
import { SESSION_COOKIE, SESSION_TTL_S } from "./plugin.ts";
import { insertSession } from "./store.ts";

/**
 * Starts a browser session for a user who just proved who they are (password and second factor, or
 * an OpenID Connect provider): stores the new token's hash with the address and browser, records the
 * sign-in, and returns the session cookie to set (`secure`: "; Secure" on https, else "").
 */
export async function startSession(sql: Sql, userId: string, ip: string, request: Request, secure: string): Promise<string> {
  const token = newSecret("", 32);
  await insertSession(sql, {
    userId,
    tokenHash: sha256(token),
    expiresAt: new Date(Date.now() + SESSION_TTL_S * 1000),
    ip,
    userAgent: request.headers.get("user-agent")?.slice(0, 300) ?? null,
  });
  await recordLogin(sql, userId);
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${SESSION_TTL_S}${secure}`;
}
