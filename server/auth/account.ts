import { type } from "arktype";
import { Elysia } from "elysia";
import { writeAudit } from "../audit/store.ts";
import type { Services } from "../context.ts";
import { AppError, Forbidden, NotFound } from "../errors.ts";
import { sha256 } from "../lib/crypto.ts";
import { IdParam, Ok, Timestamp, errors, listOf } from "../lib/schemas.ts";
import { checkPassword } from "../users/password-policy.ts";
import { setPasswordHash } from "../users/password.store.ts";
import { addressOf } from "./login.ts";
import { SESSION_COOKIE, authPlugin, readCookie } from "./plugin.ts";
import { type Principal, actorOf } from "./roles.ts";
import type { SignInGuard } from "./sign-in-guard.ts";
import { endOtherSessions, listSessions, revokeSession } from "./sessions.store.ts";
import { findUserByEmail } from "./store.ts";

const Session = type({
  id: "string",
  createdAt: Timestamp,
  lastUsedAt: Timestamp,
  expiresAt: Timestamp,
  ip: "string | null",
  userAgent: "string | null",
  current: "boolean",
});
const PasswordChange = type({ currentPassword: "0 < string <= 1024", newPassword: "0 < string <= 1024" });

/** The caller as a user: sessions, passwords and second factors belong to people, not API keys (403 `USER_ONLY`). */
export function userOnly(p: Principal): Principal & { email: string } {
  if (p.kind !== "user" || !p.email) throw new Forbidden("USER_ONLY", "only a signed-in user has this; an API key does not");
  return p as Principal & { email: string };
}

/** The token hash of the request's session cookie, if any. */
const currentSessionHash = (request: Request): Buffer | null => {
  const token = readCookie(request.headers.get("cookie"), SESSION_COOKIE);
  return token && token.length <= 200 ? sha256(token) : null;
};

/** The caller's own account: their sessions (listed, revoked one by one) and their password. */
export function accountRoutes(s: Pick<Services, "sql">, guard: SignInGuard) {
  return new Elysia({ prefix: "/api/v1/auth" })
    .use(authPlugin(s.sql))
    .get(
      "/sessions",
      async ({ principal, request }) => ({ items: await listSessions(s.sql, userOnly(principal).id, currentSessionHash(request)) }),
      {
        permission: "signed-in",
        response: { 200: listOf(Session) },
        detail: {
          summary: "The caller's signed-in sessions (created, last used, address, browser; `current` marks this one)",
          tags: ["auth"],
        },
      },
    )
    .delete(
      "/sessions/:id",
      async ({ params, principal }) => {
        if (!(await revokeSession(s.sql, userOnly(principal).id, params.id)))
          throw new NotFound("SESSION_NOT_FOUND", "no such session of yours");
        await writeAudit(s.sql, { ...actorOf(principal), action: "auth.session_revoked", targetType: "session", targetId: params.id });
        return { ok: true };
      },
      {
        permission: "signed-in",
        params: IdParam,
        response: { 200: Ok, ...errors(404, 422) },
        detail: { summary: "Sign one of the caller's sessions out (its cookie is refused from then on)", tags: ["auth"] },
      },
    )
    .post(
      "/password",
      async ({ body, principal, request, server, set }) => {
        const me = userOnly(principal);
        const ip = addressOf(server, request);
        const keys = [`account:${me.email.toLowerCase()}`, `address:${ip}`] as const;
        guard.check(keys, set.headers);
        const user = await findUserByEmail(s.sql, me.email);
        if (!user || !(await Bun.password.verify(body.currentPassword, user.passwordHash))) {
          await guard.fail(keys, actorOf(principal), ip, "auth.password_change_failed");
          throw new AppError(422, "INVALID_CREDENTIALS", "the current password is wrong", { field: "currentPassword" });
        }
        checkPassword(body.newPassword, user.email);
        await setPasswordHash(s.sql, user.id, await Bun.password.hash(body.newPassword, { algorithm: "argon2id" }));
        const ended = await endOtherSessions(s.sql, user.id, currentSessionHash(request));
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "auth.password_changed",
          targetType: "user",
          targetId: user.id,
          ip,
          details: { sessionsEnded: ended },
        });
        return { ok: true };
      },
      {
        permission: "signed-in",
        body: PasswordChange,
        response: { 200: Ok, ...errors(422, 429) },
        detail: {
          summary:
            "Change the caller's password (policy: 12+ characters, not the e-mail, not a common password: 422 PASSWORD_TOO_SHORT / PASSWORD_IS_EMAIL / PASSWORD_TOO_COMMON); signs out every other session",
          tags: ["auth"],
        },
      },
    );
}
