import { type } from "arktype";
import { Elysia } from "elysia";
import { writeAudit } from "../audit/store.ts";
import type { Services } from "../context.ts";
import { NotFound, TooManyRequests, Unauthorized } from "../errors.ts";
import { newSecret, sameHex, sha256 } from "../lib/crypto.ts";
import { IdParam, Ok, RoleName, Timestamp, errors, listOf } from "../lib/schemas.ts";
import { recordLogin } from "../users/store.ts";
import { SESSION_COOKIE, SESSION_TTL_S, authPlugin, readCookie } from "./plugin.ts";
import { actorOf } from "./roles.ts";
import { LoginThrottle, type ThrottleKey } from "./throttle.ts";
import { deleteSession, findUserByEmail, insertApiKey, insertSession, listApiKeys, revokeApiKey } from "./store.ts";

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
const NewApiKey = type({
  name: "0 < string <= 200",
  "role?": "'admin' | 'technician' | 'readonly'",
  "expiresInDays?": "1 <= number.integer <= 3650",
});
const User = type({ id: "string", email: "string", name: "string", role: RoleName, organizationId: "string" });
const Principal = type({
  kind: "'user' | 'api_key'",
  id: "string",
  organizationId: "string",
  role: RoleName,
  email: "string | null",
  name: "string",
});
const ApiKey = type({
  id: "string",
  name: "string",
  prefix: "string",
  role: RoleName,
  createdAt: Timestamp,
  lastUsedAt: Timestamp.or("null"),
  expiresAt: Timestamp.or("null"),
  revokedAt: Timestamp.or("null"),
});

/** Sign-in, sign-out, who am I, and API keys. */
export function authRoutes(s: Pick<Services, "config" | "secrets" | "sql">) {
  const throttle = new LoginThrottle(s.config.loginLimits);
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
  return new Elysia({ prefix: "/api/v1" })
    .use(authPlugin(s.sql))
    .post(
      "/auth/login",
      async ({ body, request, server, set }) => {
        const ip = server?.requestIP(request)?.address ?? "unknown";
        const user = await findUserByEmail(s.sql, body.email);
        const browser = readBrowser(readCookie(request.headers.get("cookie"), BROWSER_COOKIE), user?.id);
        const keys: ThrottleKey[] = [browser ? `browser:${browser}` : `account:${body.email.toLowerCase()}`, `address:${ip}`];
        const heldMs = throttle.heldFor(keys);
        if (heldMs > 0) {
          set.headers["retry-after"] = String(Math.ceil(heldMs / 1000));
          throw new TooManyRequests(`too many failed sign-ins; try again in ${Math.ceil(heldMs / 1000)} s`);
        }
        // verified even for unknown e-mails, so both answers take one argon2id verification
        const ok = await Bun.password.verify(body.password, user?.passwordHash ?? DUMMY_HASH);
        if (!user || !ok || user.disabledAt) {
          const actor = user
            ? { organizationId: user.organizationId, actorType: "user" as const, actorId: user.id }
            : { organizationId: null, actorType: "system" as const, actorId: null };
          await writeAudit(s.sql, { ...actor, action: "auth.login_failed", ip, details: { email: body.email.slice(0, 320) } });
          for (const hold of throttle.fail(keys)) {
            await writeAudit(s.sql, {
              ...actor,
              action: "auth.login_held",
              ip,
              details: { scope: hold.key.slice(0, hold.key.indexOf(":")), failures: hold.failures, seconds: hold.holdMs / 1000 },
            });
          }
          throw new Unauthorized("INVALID_CREDENTIALS", "wrong email or password");
        }
        throttle.succeed(keys);
        const token = newSecret("", 32);
        await insertSession(s.sql, {
          userId: user.id,
          tokenHash: sha256(token),
          expiresAt: new Date(Date.now() + SESSION_TTL_S * 1000),
          ip,
          userAgent: request.headers.get("user-agent")?.slice(0, 300) ?? null,
        });
        await recordLogin(s.sql, user.id);
        await writeAudit(s.sql, {
          organizationId: user.organizationId,
          actorType: "user",
          actorId: user.id,
          action: "auth.login",
          ip,
        });
        const cookies = [`${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${SESSION_TTL_S}${secure}`];
        if (!browser)
          cookies.push(
            `${BROWSER_COOKIE}=${signBrowser(user.id)}; Path=/api/v1/auth; HttpOnly; SameSite=Strict; Max-Age=${BROWSER_TTL_S}${secure}`,
          );
        set.headers["set-cookie"] = cookies;
        return {
          user: {
            id: user.id,
            email: user.email,
            name: user.name,
            role: user.role,
            organizationId: user.organizationId,
          },
        };
      },
      {
        body: Login,
        response: { 200: type({ user: User }), ...errors(401, 422, 429) },
        detail: {
          summary: "Sign in; sets an httpOnly session cookie. Throttled per account (or known browser) and address: 429 with Retry-After",
          tags: ["auth"],
        },
      },
    )
    .post(
      "/auth/logout",
      async ({ request, set, principal }) => {
        const token = readCookie(request.headers.get("cookie"), SESSION_COOKIE);
        if (token) await deleteSession(s.sql, sha256(token));
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "auth.logout",
        });
        set.headers["set-cookie"] = `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure}`;
        return { ok: true };
      },
      { role: "readonly", response: { 200: Ok }, detail: { summary: "Sign out", tags: ["auth"] } },
    )
    .get("/auth/me", ({ principal }) => ({ principal }), {
      role: "readonly",
      response: { 200: type({ principal: Principal }) },
      detail: { summary: "The caller", tags: ["auth"] },
    })
    .get(
      "/api-keys",
      async ({ principal }) => ({
        items: await listApiKeys(s.sql, principal.organizationId),
      }),
      {
        role: "admin",
        response: { 200: listOf(ApiKey) },
        detail: {
          summary: "API keys of the organization (never the keys themselves)",
          tags: ["auth"],
        },
      },
    )
    .post(
      "/api-keys",
      async ({ body, principal, set }) => {
        const key = newSecret("spk_", 32);
        const row = await insertApiKey(s.sql, {
          organizationId: principal.organizationId,
          createdBy: principal.kind === "user" ? principal.id : null,
          name: body.name,
          prefix: key.slice(0, 10),
          keyHash: sha256(key),
          role: body.role ?? "technician",
          expiresAt: body.expiresInDays ? new Date(Date.now() + body.expiresInDays * 86_400_000) : null,
        });
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "api_key.created",
          targetType: "api_key",
          targetId: row.id,
          details: { name: row.name, role: row.role },
        });
        set.status = 201;
        return {
          id: row.id,
          key,
          name: row.name,
          role: row.role,
          prefix: row.prefix,
          expiresAt: row.expiresAt,
        };
      },
      {
        role: "admin",
        body: NewApiKey,
        response: {
          201: type({ id: "string", key: "string", name: "string", role: RoleName, prefix: "string", expiresAt: Timestamp.or("null") }),
          ...errors(422),
        },
        detail: { summary: "Create an API key (shown once)", tags: ["auth"] },
      },
    )
    .delete(
      "/api-keys/:id",
      async ({ params, principal }) => {
        if (!(await revokeApiKey(s.sql, principal.organizationId, params.id))) throw new NotFound("API_KEY_NOT_FOUND", "no such API key");
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "api_key.revoked",
          targetType: "api_key",
          targetId: params.id,
        });
        return { ok: true };
      },
      {
        role: "admin",
        params: IdParam,
        response: { 200: Ok, ...errors(404, 422) },
        detail: { summary: "Revoke an API key", tags: ["auth"] },
      },
    );
}
