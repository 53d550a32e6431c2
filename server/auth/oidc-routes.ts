import { type } from "arktype";
import { Elysia } from "elysia";
import { writeAudit } from "../audit/store.ts";
import type { Services } from "../context.ts";
import { ValidationFailed } from "../errors.ts";
import { newSecret } from "../lib/crypto.ts";
import { ErrorBody, Ok, Timestamp, documentedResponses, errors, listOf } from "../lib/schemas.ts";
import { log } from "../log.ts";
import { organizationSlug } from "../sites/store.ts";
import { createUser } from "../users/store.ts";
import { addressOf } from "./login.ts";
import { FLOW_COOKIE, FLOW_TTL_S, OidcClients, OidcRefused, beginFlow, discover, finishFlow, openFlow, sealFlow } from "./oidc.ts";
import { deleteOidc, getOidc, listOidcProviders, saveOidc, type OidcRow } from "./oidc.store.ts";
import { authPlugin, readCookie } from "./plugin.ts";
import { actorOf } from "./roles.ts";
import { startSession } from "./session-start.ts";
import { findUserByEmail } from "./store.ts";
import { requestUrl } from "../lib/request-url.ts";

const BuiltInRole = type("'admin' | 'technician' | 'readonly'");
const Settings = type({
  issuer: "0 < string <= 500",
  clientId: "0 < string <= 300",
  "clientSecret?": "0 < string <= 1000",
  "allowedDomains?": type("0 < string <= 253").array().atMostLength(50),
  defaultRole: BuiltInRole,
  autoCreate: "boolean",
  buttonLabel: "0 < string <= 60",
});
const SettingsView = type({
  config: type({
    issuer: "string",
    clientId: "string",
    allowedDomains: "string[]",
    defaultRole: BuiltInRole,
    autoCreate: "boolean",
    buttonLabel: "string",
    updatedAt: Timestamp,
  }).or("null"),
  redirectUri: "string",
  /** The organization's own sign-in address: its login page shows only its single sign-on button. */
  signInUrl: "string",
});
const Provider = type({ label: "string", startUrl: "string" });
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** OpenAPI answers of a route that only redirects (the browser follows; nothing to parse). */
function redirects(description: string) {
  const { 200: _, ...errs } = documentedResponses(description, ErrorBody, 422);
  return {
    302: { description, headers: { Location: { description: "where the browser goes next", schema: { type: "string" as const } } } },
    ...errs,
  };
}

/**
 * OpenID Connect sign-in: an organization's admins configure their provider (Entra ID, Google,
 * Keycloak …); the login page shows a button per configured organization; the browser goes through
 * the authorization code flow (PKCE, state, nonce kept sealed in a short-lived cookie) and comes back
 * with the same session cookie as a password sign-in. The provider's own MFA is trusted: no TOTP is
 * asked after it (docs/security.md).
 */
export function oidcRoutes(s: Pick<Services, "config" | "secrets" | "sql">) {
  const secure = s.config.publicUrl.startsWith("https://") ? "; Secure" : "";
  const redirectUri = `${s.config.publicUrl}/api/v1/auth/oidc/callback`;
  const clients = new OidcClients(s.secrets);
  const flowCookie = (value: string, maxAge: number) =>
    `${FLOW_COOKIE}=${value}; Path=/api/v1/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure}`;
  const view = async (organizationId: string, row: OidcRow | undefined) => ({
    config: row
      ? {
          issuer: row.issuer,
          clientId: row.clientId,
          allowedDomains: row.allowedDomains,
          defaultRole: row.defaultRole,
          autoCreate: row.autoCreate,
          buttonLabel: row.buttonLabel,
          updatedAt: row.updatedAt,
        }
      : null,
    redirectUri,
    signInUrl: `${s.config.publicUrl}/login?org=${encodeURIComponent((await organizationSlug(s.sql, organizationId)) ?? "")}`,
  });
  const toLogin = (code: string) => `/login?sso_error=${encodeURIComponent(code)}`;

  /** The user the provider vouched for, made now when the organization allows it; refusals carry a code. */
  async function userFor(row: OidcRow, email: string, emailVerified: boolean, name: string, ip: string) {
    if (!emailVerified) throw new OidcRefused("OIDC_EMAIL_UNVERIFIED", "the provider has not verified this e-mail address");
    const domain = email.slice(email.lastIndexOf("@") + 1).toLowerCase();
    if (row.allowedDomains.length > 0 && !row.allowedDomains.includes(domain))
      throw new OidcRefused("OIDC_DOMAIN_NOT_ALLOWED", "this e-mail domain may not sign in here");
    const user = await findUserByEmail(s.sql, email);
    if (user) {
      if (user.organizationId !== row.organizationId) throw new OidcRefused("OIDC_USER_UNKNOWN", "no such user in this organization");
      if (user.disabledAt) throw new OidcRefused("OIDC_USER_DISABLED", "this account is disabled");
      return user;
    }
    if (!row.autoCreate) throw new OidcRefused("OIDC_USER_UNKNOWN", "no such user in this organization; ask an admin to add you");
    // a password nobody knows: this user signs in through the provider
    const created = await createUser(s.sql, {
      organizationId: row.organizationId,
      email,
      name,
      role: row.defaultRole,
      passwordHash: await Bun.password.hash(newSecret("", 32), { algorithm: "argon2id" }),
    });
    await writeAudit(s.sql, {
      organizationId: row.organizationId,
      actorType: "user",
      actorId: created.id,
      actorName: email,
      action: "user.created",
      targetType: "user",
      targetId: created.id,
      ip,
      details: { via: "oidc", role: created.role },
    });
    return { ...created, organizationId: row.organizationId };
  }

  const admin = new Elysia({ prefix: "/api/v1" })
    .use(authPlugin(s.sql))
    .get("/auth/oidc", async ({ principal }) => view(principal.organizationId, await getOidc(s.sql, principal.organizationId)), {
      permission: "settings:manage",
      response: { 200: SettingsView },
      detail: { summary: "The organization's OpenID Connect sign-in settings (never the client secret)", tags: ["auth"] },
    })
    .put(
      "/auth/oidc",
      async ({ body, principal }) => {
        const issuer = body.issuer.trim().replace(/\/+$/, "");
        if (!URL.canParse(issuer)) throw new ValidationFailed("issuer: not a URL", { field: "issuer" });
        const url = new URL(issuer);
        const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
        if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback))
          throw new ValidationFailed("issuer: must be an https URL", { field: "issuer" });
        const domains = (body.allowedDomains ?? []).map((d) => d.trim().toLowerCase().replace(/^@/, ""));
        const bad = domains.find((d) => !DOMAIN.test(d));
        if (bad !== undefined)
          throw new ValidationFailed(`allowedDomains: ${bad.slice(0, 60)} is not a domain`, { field: "allowedDomains" });
        const existing = await getOidc(s.sql, principal.organizationId);
        const secret = body.clientSecret ?? (existing ? s.secrets.open(existing.clientSecretSealed) : undefined);
        if (!secret) throw new ValidationFailed("clientSecret: needed the first time", { field: "clientSecret" });
        try {
          await discover(issuer, body.clientId, secret);
        } catch (err) {
          const reason = err instanceof Error ? err.message.slice(0, 300) : "unknown";
          throw new ValidationFailed(`issuer: discovery failed: ${reason}`, { field: "issuer", code: "OIDC_DISCOVERY_FAILED" });
        }
        const row = await saveOidc(s.sql, {
          organizationId: principal.organizationId,
          issuer,
          clientId: body.clientId,
          clientSecretSealed: s.secrets.seal(secret),
          allowedDomains: [...new Set(domains)],
          defaultRole: body.defaultRole,
          autoCreate: body.autoCreate,
          buttonLabel: body.buttonLabel.trim() || "SSO",
        });
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "auth.oidc_configured",
          targetType: "organization",
          targetId: principal.organizationId,
          details: {
            issuer,
            clientId: body.clientId,
            secretChanged: body.clientSecret !== undefined,
            autoCreate: body.autoCreate,
            defaultRole: body.defaultRole,
          },
        });
        return view(principal.organizationId, row);
      },
      {
        permission: "settings:manage",
        body: Settings,
        response: { 200: SettingsView, ...errors(422) },
        detail: {
          summary:
            "Configure OpenID Connect sign-in; the provider's discovery document is fetched and checked first (422 naming the reason). `clientSecret` is write-only, needed the first time",
          tags: ["auth"],
        },
      },
    )
    .delete(
      "/auth/oidc",
      async ({ principal }) => {
        if (await deleteOidc(s.sql, principal.organizationId))
          await writeAudit(s.sql, {
            ...actorOf(principal),
            action: "auth.oidc_removed",
            targetType: "organization",
            targetId: principal.organizationId,
          });
        return { ok: true as const };
      },
      { permission: "settings:manage", response: { 200: Ok }, detail: { summary: "Turn OpenID Connect sign-in off", tags: ["auth"] } },
    );

  const flow = new Elysia({ prefix: "/api/v1" })
    .get(
      "/auth/oidc/providers",
      async ({ query }) => ({
        items: (await listOidcProviders(s.sql, query.org ?? null)).map((p) => ({
          label: p.buttonLabel,
          startUrl: `/api/v1/auth/oidc/start?org=${p.organizationId}`,
        })),
      }),
      {
        query: type({ "org?": /^[a-z0-9][a-z0-9-]{0,62}$/ }),
        response: { 200: listOf(Provider), ...errors(422) },
        detail: {
          summary:
            "The login page's single sign-on button: the organization named by its slug (/login?org=<slug>), or the only organization of a single-tenant install; never a list of tenants",
          tags: ["auth"],
        },
      },
    )
    .get(
      "/auth/oidc/start",
      async ({ query, set, redirect }) => {
        const row = await getOidc(s.sql, query.org);
        if (!row) return redirect(toLogin("OIDC_NOT_CONFIGURED"), 302);
        try {
          const { url, flow } = await beginFlow(await clients.get(row), row.organizationId, redirectUri);
          set.headers["set-cookie"] = flowCookie(sealFlow(s.secrets, flow), FLOW_TTL_S);
          return redirect(url.href, 302);
        } catch (err) {
          log("warn", "OpenID Connect provider unreachable", { organizationId: row.organizationId, error: String(err).slice(0, 200) });
          return redirect(toLogin("OIDC_PROVIDER_UNREACHABLE"), 302);
        }
      },
      {
        query: type({ org: "string.uuid" }),
        detail: {
          summary: "Start an OpenID Connect sign-in: redirects to the organization's provider",
          tags: ["auth"],
          responses: redirects("To the provider"),
        },
      },
    )
    .get(
      "/auth/oidc/callback",
      async ({ request, server, set, redirect }) => {
        const ip = addressOf(server, request);
        const state = openFlow(s.secrets, readCookie(request.headers.get("cookie"), FLOW_COOKIE));
        const cookies = [flowCookie("", 0)];
        set.headers["set-cookie"] = cookies;
        if (!state) return redirect(toLogin("OIDC_STATE_MISSING"), 302);
        const row = await getOidc(s.sql, state.organizationId);
        if (!row) return redirect(toLogin("OIDC_NOT_CONFIGURED"), 302);
        const search = requestUrl(request).search;
        let email: string | undefined;
        try {
          const identity = await finishFlow(await clients.get(row), new URL(`${redirectUri}${search}`), state);
          email = identity.email;
          const user = await userFor(row, identity.email, identity.emailVerified, identity.name, ip);
          const session = await startSession(s.sql, user.id, ip, request, secure);
          await writeAudit(s.sql, {
            organizationId: row.organizationId,
            actorType: "user",
            actorId: user.id,
            actorName: user.email,
            action: "auth.login",
            ip,
            details: { via: "oidc", issuer: row.issuer },
          });
          cookies.push(session);
          return redirect("/devices", 302);
        } catch (err) {
          const refused = err instanceof OidcRefused ? err : new OidcRefused("OIDC_FAILED", "the sign-in could not be completed");
          if (!(err instanceof OidcRefused)) log("error", "OpenID Connect callback failed", { error: String(err).slice(0, 200) });
          const known = email ? await findUserByEmail(s.sql, email) : undefined;
          const mine = known?.organizationId === row.organizationId ? known : undefined;
          await writeAudit(s.sql, {
            organizationId: row.organizationId,
            actorType: mine ? "user" : "system",
            actorId: mine?.id ?? null,
            actorName: email?.slice(0, 320) ?? null,
            action: "auth.oidc_refused",
            ip,
            details: { code: refused.code, reason: refused.message },
          });
          return redirect(toLogin(refused.code), 302);
        }
      },
      {
        query: type({
          "code?": "string <= 4096",
          "state?": "string <= 500",
          "iss?": "string <= 500",
          "error?": "string <= 200",
          "error_description?": "string <= 1000",
          "session_state?": "string <= 500",
          "scope?": "string <= 1000",
          "authuser?": "string <= 10",
          "prompt?": "string <= 100",
          "hd?": "string <= 253",
        }),
        detail: {
          summary:
            "The provider's redirect back: exchanges the code (PKCE), checks state, nonce, issuer, audience and expiry, and signs in the verified e-mail's user; redirects to the dashboard, or to the login page with `sso_error=CODE`",
          tags: ["auth"],
          responses: redirects("To the dashboard, or to the login page with an error code"),
        },
      },
    );
  return new Elysia().use(admin).use(flow);
}
