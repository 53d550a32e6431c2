import { createSignal } from "solid-js";
import { api, call } from "./api.ts";
import type { Principal } from "./types.ts";

/** The signed-in caller: undefined while unknown, null when signed out. */
const [principal, setPrincipal] = createSignal<Principal | null | undefined>(undefined);
export { principal };

/**
 * True when the signed-in caller holds the named permission (server/auth/permissions.ts lists them);
 * the dashboard hides what this answers false for, and the server refuses it anyway.
 */
export function can(permission: string): boolean {
  return principal()?.permissions.includes(permission) ?? false;
}

/** Asks the server who we are; null when the session cookie is missing or expired. */
export async function loadSession(): Promise<Principal | null> {
  try {
    const me = await call(api.api.v1.auth.me.get(), { auth: false });
    setPrincipal(me.principal);
    return me.principal;
  } catch {
    setPrincipal(null);
    return null;
  }
}

/**
 * Signs in (sets the httpOnly session cookie) and loads the principal; throws ApiError on bad
 * credentials (`TOTP_REQUIRED`, `TOTP_ENROLLMENT_REQUIRED` when a code is needed). Answers the
 * recovery codes when this sign-in enrolled two-factor (shown once).
 */
export async function signIn(email: string, password: string, totp?: string): Promise<string[] | undefined> {
  const res = await call(api.api.v1.auth.login.post({ email, password, ...(totp ? { totp } : {}) }), { auth: false });
  await loadSession();
  return res.recoveryCodes;
}

export async function signOut(): Promise<void> {
  try {
    await call(api.api.v1.auth.logout.post(), { auth: false });
  } finally {
    setPrincipal(null);
  }
}

export function markSignedOut(): void {
  setPrincipal(null);
}

/** The login URL that brings the technician back to `path` afterwards. */
export function loginHref(path: string): string {
  return path && path !== "/" && !path.startsWith("/login") ? `/login?next=${encodeURIComponent(path)}` : "/login";
}

/** A `next` parameter made safe: only same-origin paths, never another host. */
export function safeNext(raw: string | undefined): string {
  if (!raw?.startsWith("/") || raw.startsWith("//") || raw.startsWith("/\\") || raw.startsWith("/login")) return "/devices";
  return raw;
}
