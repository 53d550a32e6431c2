import { type } from "arktype";
import { Elysia } from "elysia";
import { writeAudit } from "../audit/store.ts";
import type { Services } from "../context.ts";
import { AppError, Conflict, Forbidden } from "../errors.ts";
import { errors } from "../lib/schemas.ts";
import { userOnly } from "./account.ts";
import { addressOf } from "./login.ts";
import { authPlugin } from "./plugin.ts";
import { actorOf } from "./roles.ts";
import { spendSecondFactor } from "./second-factor.ts";
import type { SignInGuard } from "./sign-in-guard.ts";
import { findUserByEmail } from "./store.ts";
import { matchStep, newRecoveryCodes, newTotpSecret, otpauthUrl, recoveryCodeHash } from "./totp.ts";
import { clearTotp, enableTotp, getTotp, recoveryCodesLeft, requiresTotp, savePendingTotp, setRequiresTotp } from "./totp.store.ts";

const Status = type({ enabled: "boolean", pending: "boolean", recoveryCodesLeft: "number", requiredByOrganization: "boolean" });
const Disable = type({ "code?": "0 < string <= 32", "password?": "0 < string <= 1024" });
const Policy = type({ requireTotp: "boolean" });

/**
 * Two-factor sign-in for the caller (TOTP, RFC 6238): setup (a pending secret, sealed), enable with a
 * first code (answers ten single-use recovery codes, shown once, stored hashed), disable with a code
 * or the password; and the organization's "require two-factor" policy (admins). Every change audited.
 */
export function twoFactorRoutes(s: Pick<Services, "sql" | "secrets">, guard: SignInGuard) {
  return new Elysia({ prefix: "/api/v1/auth" })
    .use(authPlugin(s.sql))
    .get(
      "/totp",
      async ({ principal }) => {
        const me = userOnly(principal);
        const totp = await getTotp(s.sql, me.id);
        return {
          enabled: Boolean(totp?.enabledAt),
          pending: Boolean(totp?.secretSealed && !totp.enabledAt),
          recoveryCodesLeft: totp?.enabledAt ? await recoveryCodesLeft(s.sql, me.id) : 0,
          requiredByOrganization: await requiresTotp(s.sql, me.organizationId),
        };
      },
      { permission: "signed-in", response: { 200: Status }, detail: { summary: "The caller's two-factor state", tags: ["auth"] } },
    )
    .post(
      "/totp/setup",
      async ({ principal }) => {
        const me = userOnly(principal);
        const secret = newTotpSecret();
        if (!(await savePendingTotp(s.sql, me.id, s.secrets.seal(secret))))
          throw new Conflict("TOTP_ALREADY_ENABLED", "two-factor sign-in is already on; turn it off first to start again");
        return { secret, otpauthUrl: otpauthUrl(secret, me.email) };
      },
      {
        permission: "signed-in",
        response: { 200: type({ secret: "string", otpauthUrl: "string" }), ...errors(409) },
        detail: {
          summary: "Start enrolling an authenticator app: a new pending secret and its otpauth:// URL (for the QR code)",
          tags: ["auth"],
        },
      },
    )
    .post(
      "/totp/enable",
      async ({ body, principal, request, server }) => {
        const me = userOnly(principal);
        const totp = await getTotp(s.sql, me.id);
        if (totp?.enabledAt) throw new Conflict("TOTP_ALREADY_ENABLED", "two-factor sign-in is already on");
        if (!totp?.secretSealed) throw new Conflict("TOTP_NOT_SET_UP", "start with POST /api/v1/auth/totp/setup");
        const step = matchStep(s.secrets.open(totp.secretSealed), body.code);
        if (step === null)
          throw new AppError(422, "INVALID_TOTP", "that code does not match; check the app's clock and try the current code");
        const recoveryCodes = newRecoveryCodes();
        if (!(await enableTotp(s.sql, me.id, step, recoveryCodes.map(recoveryCodeHash))))
          throw new Conflict("TOTP_NOT_SET_UP", "the enrollment changed meanwhile; start again");
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "auth.totp_enabled",
          targetType: "user",
          targetId: me.id,
          ip: addressOf(server, request),
        });
        return { recoveryCodes };
      },
      {
        permission: "signed-in",
        body: type({ code: /^\d{6}$/ }),
        response: { 200: type({ recoveryCodes: "string[]" }), ...errors(409, 422) },
        detail: {
          summary: "Turn two-factor sign-in on with a first code; answers 10 single-use recovery codes, shown this once",
          tags: ["auth"],
        },
      },
    )
    .post(
      "/totp/disable",
      async ({ body, principal, request, server, set }) => {
        const me = userOnly(principal);
        if (!body.code && !body.password)
          throw new AppError(422, "CODE_OR_PASSWORD_REQUIRED", "send a current code (or a recovery code) or your password");
        if (await requiresTotp(s.sql, me.organizationId))
          throw new Forbidden(
            "TOTP_REQUIRED_BY_ORGANIZATION",
            "your organization requires two-factor sign-in; an admin can reset it for you",
          );
        const totp = await getTotp(s.sql, me.id);
        if (!totp?.secretSealed) throw new Conflict("TOTP_NOT_ENABLED", "two-factor sign-in is not on");
        const ip = addressOf(server, request);
        const keys = [`account:${me.email.toLowerCase()}`, `address:${ip}`] as const;
        guard.check(keys, set.headers);
        const proven = body.code
          ? (await spendSecondFactor(s.sql, s.secrets, me.id, totp, body.code.trim())) !== null
          : await Bun.password.verify(body.password ?? "", (await findUserByEmail(s.sql, me.email))?.passwordHash ?? "");
        if (!proven) {
          await guard.fail(keys, actorOf(principal), ip, "auth.totp_failed", { email: me.email });
          throw body.code
            ? new AppError(422, "INVALID_TOTP", "wrong or already used code")
            : new AppError(422, "INVALID_CREDENTIALS", "wrong password", { field: "password" });
        }
        await clearTotp(s.sql, me.id);
        await writeAudit(s.sql, { ...actorOf(principal), action: "auth.totp_disabled", targetType: "user", targetId: me.id, ip });
        return { ok: true as const };
      },
      {
        permission: "signed-in",
        body: Disable,
        response: { 200: type({ ok: "true" }), ...errors(403, 409, 422, 429) },
        detail: { summary: "Turn two-factor sign-in off, proven with a current code, a recovery code or the password", tags: ["auth"] },
      },
    )
    .get("/policy", async ({ principal }) => ({ requireTotp: await requiresTotp(s.sql, principal.organizationId) }), {
      permission: "signed-in",
      response: { 200: Policy },
      detail: { summary: "The organization's sign-in policy", tags: ["auth"] },
    })
    .put(
      "/policy",
      async ({ body, principal }) => {
        const before = await requiresTotp(s.sql, principal.organizationId);
        if (body.requireTotp && principal.kind === "user" && !(await getTotp(s.sql, principal.id))?.enabledAt)
          throw new Conflict("TOTP_NOT_ENABLED", "turn two-factor sign-in on for yourself before requiring it of everyone");
        await setRequiresTotp(s.sql, principal.organizationId, body.requireTotp);
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "organization.sign_in_policy_changed",
          targetType: "organization",
          targetId: principal.organizationId,
          details: { before: { requireTotp: before }, after: { requireTotp: body.requireTotp } },
        });
        return { requireTotp: body.requireTotp };
      },
      {
        permission: "settings:manage",
        body: Policy,
        response: { 200: Policy, ...errors(409, 422) },
        detail: {
          summary:
            "Require two-factor sign-in in the organization: users without it enroll at their next sign-in (401 TOTP_ENROLLMENT_REQUIRED)",
          tags: ["auth"],
        },
      },
    );
}
