import { type } from "arktype";
import { Elysia } from "elysia";
import { writeAudit } from "../audit/store.ts";
import type { Services } from "../context.ts";
import { sha256 } from "../lib/crypto.ts";
import { Ok, RoleName } from "../lib/schemas.ts";
import { accountRoutes } from "./account.ts";
import { apiKeyRoutes } from "./api-keys.ts";
import { loginRoutes } from "./login.ts";
import { SESSION_COOKIE, authPlugin, readCookie } from "./plugin.ts";
import { actorOf } from "./roles.ts";
import { SignInGuard } from "./sign-in-guard.ts";
import { deleteSession } from "./store.ts";
import { twoFactorRoutes } from "./two-factor.ts";

const Principal = type({
  kind: "'user' | 'api_key'",
  id: "string",
  organizationId: "string",
  role: RoleName,
  /** The custom role held, whose permissions replace the built-in role's. */
  roleId: "string | null",
  /** What the caller may do (the dashboard hides the rest). */
  permissions: "string[]",
  /** The clients the caller is limited to (with `groupIds`; null on both for the whole organization). */
  clientIds: "string[] | null",
  /** The smart groups whose members the caller reaches besides its clients' devices. */
  groupIds: "string[] | null",
  email: "string | null",
  name: "string",
});
/** Sign-in (with two-factor), sign-out, who am I, sessions, the password, and API keys (api-keys.ts). */
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
        principal: {
          ...principal,
          permissions: [...principal.permissions],
          clientIds: principal.clientIds && [...principal.clientIds],
          groupIds: principal.groupIds && [...principal.groupIds],
        },
      }),
      {
        permission: "signed-in",
        response: { 200: type({ principal: Principal }) },
        detail: { summary: "The caller", tags: ["auth"] },
      },
    );
  return new Elysia().use(loginRoutes(s, guard)).use(twoFactorRoutes(s, guard)).use(accountRoutes(s, guard)).use(apiKeyRoutes(s)).use(rest);
}
