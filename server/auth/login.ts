import { type } from "arktype";
import { Elysia } from "elysia";
import { writeAudit } from "../audit/store.ts";
import type { Services } from "../context.ts";
import { AppError, Unauthorized } from "../errors.ts";
import { newSecret, sameHex } from "../lib/crypto.ts";
import { RoleName, errors } from "../lib/schemas.ts";
import { readCookie } from "./plugin.ts";
import { type SecondFactor, spendSecondFactor } from "./second-factor.ts";
import type { SignInGuard } from "./sign-in-guard.ts";
import { startSession } from "./session-start.ts";
import { type UserRow, findUserByEmail } from "./store.ts";
import type { ThrottleKey } from "./throttle.ts";
import { matchStep, newRecoveryCodes, newTotpSecret, otpauthUrl, recoveryCodeHash } from "./totp.ts";
import { enableTotp, getTotp, requiresTotp, savePendingTotp } from "./totp.store.ts";

/** Verified against when the email is unknown, so both paths cost one argon2 verification. */
const DUMMY_HASH = await Bun.password.hash("not-a-real-password", {
  algorithm: "argon2id",
});

/** The cookie that marks a browser which signed in before (see LoginThrottle). */
const BROWSER_COOKIE = "sentpulse_browser";
const BROWSER_TTL_S = 365 * 86_400;

const Login = type({
  email: "0 < string <= 320",
  password: "0 < string <= 1024",
  "totp?": "string <= 16",
});
const User = type({ id: "string", email: "string", name: "string", role: RoleName, organizationId: "string" });

/** The source address of a request (the socket's peer). */
export const addressOf = (server: { requestIP(r: Request): { address: string } | null } | null, request: Request): string =>
  server?.requestIP(request)?.address ?? "unknown";

/**
 * Sign-in: password, then the second factor. A user with TOTP on sends `totp` (a 6-digit code or a
 * recovery code): without it 401 `TOTP_REQUIRED`, a wrong, expired or replayed one 401 `INVALID_TOTP`
 * (counted by the throttle like a wrong password). When the organization requires two-factor sign-in
 * and the user has none yet, 401 `TOTP_ENROLLMENT_REQUIRED` carries a pending secret in `details`
 * (`secret`, `otpauthUrl`); the next sign-in with a code of it enables TOTP and answers the
 * recovery codes, once.
 */
export function loginRoutes(s: Pick<Services, "config" | "secrets" | "sql">, guard: SignInGuard) {
  const secure = s.config.publicUrl.startsWith("https://") ? "; Secure" : "";
  /** A browser that signed in as a user gets a signed cookie; its failures then count against it alone. */
  const signBrowser = (userId: string) => {
    const id = newSecret("", 12);
    return `${id}.${userId}.${s.secrets.mac("browser", `${id}.${userId}`)}`;
  };
  const readBrowser = (value: string | undefined, userId: string | undefined): string | undefined => {
    if (!value || !userId || value.length > 200) return undefined;
    const [id, owner, mac] = value.split(".");
    if (!id || owner !== userId || !mac) return undefined;
    return sameHex(mac, s.secrets.mac("browser", `${id}.${owner}`)) ? id : undefined;
  };
  const userActor = (user: UserRow) => ({ organizationId: user.organizationId, actorType: "user" as const, actorId: user.id });

  /** The second factor of a signed-in-by-password user: what proved it, and recovery codes made now. */
  async function secondFactor(
    user: UserRow,
    code: string | undefined,
    keys: ThrottleKey[],
    ip: string,
  ): Promise<{ via?: SecondFactor | "enrollment"; recoveryCodes?: string[] }> {
    const totp = await getTotp(s.sql, user.id);
    const refuse = async (): Promise<never> => {
      await guard.fail(keys, userActor(user), ip, "auth.totp_failed", { email: user.email });
      throw new Unauthorized("INVALID_TOTP", "wrong or already used code; wait for the next one, or use a recovery code");
    };
    if (totp?.enabledAt) {
      if (!code) throw new Unauthorized("TOTP_REQUIRED", "enter the code from your authenticator app, or a recovery code");
      const via = (await spendSecondFactor(s.sql, s.secrets, user.id, totp, code)) ?? (await refuse());
      return { via };
    }
    if (!(await requiresTotp(s.sql, user.organizationId))) return {};
    let secret = totp?.secretSealed ? s.secrets.open(totp.secretSealed) : undefined;
    if (!secret || !code) {
      if (!secret) {
        secret = newTotpSecret();
        await savePendingTotp(s.sql, user.id, s.secrets.seal(secret));
      }
      throw new AppError(
        401,
        "TOTP_ENROLLMENT_REQUIRED",
        "your organization requires two-factor sign-in: add this account to an authenticator app, then sign in with a code",
        {
          secret,
          otpauthUrl: otpauthUrl(secret, user.email),
        },
      );
    }
    const step = matchStep(secret, code);
    if (step === null) return refuse();
    const recoveryCodes = newRecoveryCodes();
    if (!(await enableTotp(s.sql, user.id, step, recoveryCodes.map(recoveryCodeHash)))) return refuse();
    await writeAudit(s.sql, {
      ...userActor(user),
      actorName: user.email,
      action: "auth.totp_enabled",
      targetType: "user",
      targetId: user.id,
      ip,
      details: { at: "sign-in" },
    });
    return { via: "enrollment", recoveryCodes };
  }

  return new Elysia({ prefix: "/api/v1" }).post(
    "/auth/login",
    async ({ body, request, server, set }) => {
      const ip = addressOf(server, request);
      const user = await findUserByEmail(s.sql, body.email);
      const browser = readBrowser(readCookie(request.headers.get("cookie"), BROWSER_COOKIE), user?.id);
      const keys: ThrottleKey[] = [browser ? `browser:${browser}` : `account:${body.email.toLowerCase()}`, `address:${ip}`];
      guard.check(keys, set.headers);
      // verified even for unknown e-mails, so both answers take one argon2id verification
      const ok = await Bun.password.verify(body.password, user?.passwordHash ?? DUMMY_HASH);
      if (!user || !ok || user.disabledAt) {
        const actor = user ? userActor(user) : { organizationId: null, actorType: "system" as const, actorId: null };
        await guard.fail(keys, actor, ip, "auth.login_failed", { email: body.email.slice(0, 320) });
        throw new Unauthorized("INVALID_CREDENTIALS", "wrong email or password");
      }
      const { via, recoveryCodes } = await secondFactor(user, body.totp?.trim(), keys, ip);
      guard.succeed(keys);
      const session = await startSession(s.sql, user.id, ip, request, secure);
      await writeAudit(s.sql, { ...userActor(user), action: "auth.login", ip, ...(via ? { details: { secondFactor: via } } : {}) });
      const cookies = [session];
      if (!browser)
        cookies.push(
          `${BROWSER_COOKIE}=${signBrowser(user.id)}; Path=/api/v1/auth; HttpOnly; SameSite=Strict; Max-Age=${BROWSER_TTL_S}${secure}`,
        );
      set.headers["set-cookie"] = cookies;
      const { id, email, name, role, organizationId } = user;
      return { user: { id, email, name, role, organizationId }, ...(recoveryCodes ? { recoveryCodes } : {}) };
    },
    {
      body: Login,
      response: { 200: type({ user: User, "recoveryCodes?": "string[]" }), ...errors(401, 422, 429) },
      detail: {
        summary:
          "Sign in; sets an httpOnly session cookie. With two-factor on, `totp` (a code or a recovery code) is needed: 401 TOTP_REQUIRED / INVALID_TOTP; 401 TOTP_ENROLLMENT_REQUIRED when the organization requires it and the user must enroll first. Throttled per account (or known browser) and address: 429 with Retry-After",
        tags: ["auth"],
      },
    },
  );
}
