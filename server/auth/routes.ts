import { type } from "arktype";
import { Elysia } from "elysia";
import { writeAudit } from "../audit/store.ts";
import type { Services } from "../context.ts";
import { NotFound, ValidationFailed } from "../errors.ts";
import { newSecret, sha256 } from "../lib/crypto.ts";
import { IdParam, Ok, RoleName, Timestamp, errors, listOf } from "../lib/schemas.ts";
import { accountRoutes } from "./account.ts";
import { loginRoutes } from "./login.ts";
import { SESSION_COOKIE, authPlugin, readCookie } from "./plugin.ts";
import { PERMISSIONS } from "./permissions.ts";
import { BUILT_IN, actorOf } from "./roles.ts";
import { SignInGuard } from "./sign-in-guard.ts";
import { deleteSession, insertApiKey, listApiKeys, revokeApiKey } from "./store.ts";
import { twoFactorRoutes } from "./two-factor.ts";

const NewApiKey = type({
  name: "0 < string <= 200",
  "role?": "'admin' | 'technician' | 'readonly'",
  /** Limits the key to these permissions of its role (unset: all of them). */
  "scopes?": type
    .enumerated(...PERMISSIONS)
    .array()
    .atMostLength(64),
  "expiresInDays?": "1 <= number.integer <= 3650",
});
const Principal = type({
  kind: "'user' | 'api_key'",
  id: "string",
  organizationId: "string",
  role: RoleName,
  /** The custom role held, whose permissions replace the built-in role's. */
  roleId: "string | null",
  /** What the caller may do (the dashboard hides the rest). */
  permissions: "string[]",
  /** The clients the caller is limited to; null for the whole organization. */
  clientIds: "string[] | null",
  email: "string | null",
  name: "string",
});
const ApiKey = type({
  id: "string",
  name: "string",
  prefix: "string",
  role: RoleName,
  scopes: type
    .enumerated(...PERMISSIONS)
    .array()
    .or("null"),
  createdAt: Timestamp,
  lastUsedAt: Timestamp.or("null"),
  expiresAt: Timestamp.or("null"),
  revokedAt: Timestamp.or("null"),
});

/** Sign-in (with two-factor), sign-out, who am I, sessions, the password, and API keys. */
export function authRoutes(s: Pick<Services, "config" | "secrets" | "sql">) {
  const guard = new SignInGuard(s.sql, s.config.loginLimits);
  const secure = s.config.publicUrl.startsWith("https://") ? "; Secure" : "";
  const rest = new Elysia({ prefix: "/api/v1" })
    .use(authPlugin(s.sql))
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
      { permission: "signed-in", response: { 200: Ok }, detail: { summary: "Sign out", tags: ["auth"] } },
    )
    .get(
      "/auth/me",
      ({ principal }) => ({
        principal: { ...principal, permissions: [...principal.permissions], clientIds: principal.clientIds && [...principal.clientIds] },
      }),
      {
        permission: "signed-in",
        response: { 200: type({ principal: Principal }) },
        detail: { summary: "The caller", tags: ["auth"] },
      },
    )
    .get(
      "/api-keys",
      async ({ principal }) => ({
        items: await listApiKeys(s.sql, principal.organizationId),
      }),
      {
        permission: "users:manage",
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
        const role = body.role ?? "technician";
        const scopes = body.scopes ? [...new Set(body.scopes)] : null;
        const beyond = scopes?.filter((p) => !BUILT_IN[role].includes(p)) ?? [];
        if (beyond.length > 0) throw new ValidationFailed(`scopes beyond the ${role} role: ${beyond.join(", ")}`, { scopes: beyond });
        const key = newSecret("spk_", 32);
        const row = await insertApiKey(s.sql, {
          organizationId: principal.organizationId,
          createdBy: principal.kind === "user" ? principal.id : null,
          name: body.name,
          prefix: key.slice(0, 10),
          keyHash: sha256(key),
          role,
          scopes,
          expiresAt: body.expiresInDays ? new Date(Date.now() + body.expiresInDays * 86_400_000) : null,
        });
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "api_key.created",
          targetType: "api_key",
          targetId: row.id,
          details: { name: row.name, role: row.role, scopes: row.scopes },
        });
        set.status = 201;
        return {
          id: row.id,
          key,
          name: row.name,
          role: row.role,
          scopes: row.scopes,
          prefix: row.prefix,
          expiresAt: row.expiresAt,
        };
      },
      {
        permission: "users:manage",
        body: NewApiKey,
        response: {
          201: type({
            id: "string",
            key: "string",
            name: "string",
            role: RoleName,
            scopes: type
              .enumerated(...PERMISSIONS)
              .array()
              .or("null"),
            prefix: "string",
            expiresAt: Timestamp.or("null"),
          }),
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
        permission: "users:manage",
        params: IdParam,
        response: { 200: Ok, ...errors(404, 422) },
        detail: { summary: "Revoke an API key", tags: ["auth"] },
      },
    );
  return new Elysia().use(loginRoutes(s, guard)).use(twoFactorRoutes(s, guard)).use(accountRoutes(s, guard)).use(rest);
}
