import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { otherOrganization, tableCounts } from "../testing/fixtures.ts";
import { ADMIN, startTestServer, type TestServer } from "../testing/harness.ts";
import { startTestIdp, type TestIdp } from "../testing/oidc-provider.ts";

/** OpenID Connect sign-in against a real provider (`oidc-provider`) on a loopback port, driven by fetch. */
let srv: TestServer;
let idp: TestIdp;
let organizationId = "";

beforeAll(async () => {
  srv = await startTestServer();
  idp = await startTestIdp(`${srv.url}/api/v1/auth/oidc/callback`);
  organizationId = (await srv.sql<{ id: string }[]>`select organization_id as id from users where email = ${ADMIN.email}`)[0]!.id;
  idp.users.set(ADMIN.email, { email: ADMIN.email, verified: true });
  idp.users.set("new.tech@example.com", { email: "new.tech@example.com", verified: true, name: "New Tech" });
  idp.users.set("stranger@elsewhere.org", { email: "stranger@elsewhere.org", verified: true });
  idp.users.set("unverified@example.com", { email: "unverified@example.com", verified: false });
}, 120_000);
afterAll(async () => {
  await idp?.stop();
  await srv?.stop();
});

const settings = (over: Record<string, unknown> = {}) => ({
  issuer: idp.issuer,
  clientId: idp.clientId,
  clientSecret: idp.clientSecret,
  allowedDomains: ["example.com"],
  defaultRole: "technician",
  autoCreate: false,
  buttonLabel: "Test IdP",
  ...over,
});
const put = (body: unknown) => srv.api("/api/v1/auth/oidc", { method: "PUT", body });

/** Cookies of one party, by name (paths ignored: enough for one provider and one server). */
class Jar {
  readonly values = new Map<string, string>();
  take(res: Response) {
    for (const c of res.headers.getSetCookie()) {
      const [pair = "", ...attrs] = c.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (!value || attrs.some((a) => /max-age=0\b/i.test(a.trim()) || /expires=thu, 01 jan 1970/i.test(a.trim())))
        this.values.delete(name);
      else this.values.set(name, value);
    }
  }
  header() {
    return [...this.values].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

/** A request that does not follow redirects, carrying and keeping the jar's cookies. */
async function go(jar: Jar, url: string, init: RequestInit = {}) {
  const res = await fetch(url, {
    ...init,
    redirect: "manual",
    headers: { ...(init.headers as Record<string, string>), cookie: jar.header() },
  });
  jar.take(res);
  return res;
}

/**
 * The browser's part of a sign-in: start at SENTpulse, follow to the provider, sign in there as
 * `email`, and stop at the callback URL the provider sends back (not yet visited).
 */
async function toCallback(email: string): Promise<{ app: Jar; callback: string }> {
  const app = new Jar();
  const idpJar = new Jar();
  const start = await go(app, `${srv.url}/api/v1/auth/oidc/start?org=${organizationId}`);
  expect(start.status).toBe(302);
  let location = start.headers.get("location") ?? "";
  expect(location).toStartWith(`${idp.issuer}/`);
  expect(app.values.has("sentpulse_oidc")).toBe(true);
  for (let hops = 0; hops < 10; hops++) {
    if (location.startsWith(srv.url)) return { app, callback: location };
    const url = new URL(location, idp.issuer).href;
    let res = await go(idpJar, url);
    if (res.status === 200 && url.includes("/interaction/")) {
      res = await go(idpJar, url, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ login: email }).toString(),
      });
    }
    expect(res.status).toBeGreaterThanOrEqual(300);
    location = new URL(res.headers.get("location") ?? "", url).href;
  }
  throw new Error("too many redirects");
}

/** A whole sign-in: where the callback sends the browser, and the app's cookies after it. */
async function signIn(email: string) {
  const { app, callback } = await toCallback(email);
  const res = await go(app, callback);
  expect(res.status).toBe(302);
  return { location: res.headers.get("location") ?? "", app, callback };
}

describe("configuring OpenID Connect", () => {
  test("a provider that cannot be discovered, or plain http, → 422 naming the reason; nothing saved", async () => {
    const unreachable = await put(settings({ issuer: "http://127.0.0.1:9" }));
    expect(unreachable.status).toBe(422);
    const body = (await unreachable.json()) as { error: { code: string; message: string; details: { code: string } } };
    expect(body.error.details.code).toBe("OIDC_DISCOVERY_FAILED");
    expect(body.error.message).toContain("discovery failed");
    const plain = await put(settings({ issuer: "http://idp.example.com" }));
    expect(plain.status).toBe(422);
    expect(((await plain.json()) as { error: { message: string } }).error.message).toContain("https");
    const badDomain = await put(settings({ allowedDomains: ["not a domain"] }));
    expect(badDomain.status).toBe(422);
    expect((await srv.sql`select 1 from organization_oidc`).count).toBe(0);
  });

  test("a discovery document naming another issuer → 422 (the issuer is checked)", async () => {
    const impostor = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => fetch(`${idp.issuer}/.well-known/openid-configuration`) });
    try {
      const res = await put(settings({ issuer: `http://127.0.0.1:${impostor.port}` }));
      expect(res.status).toBe(422);
    } finally {
      impostor.stop(true);
    }
  });

  test("saved: the secret is sealed and never comes back; the login page lists the button", async () => {
    const res = await put(settings());
    expect(res.status).toBe(200);
    const saved = (await res.json()) as { config: Record<string, unknown>; redirectUri: string };
    expect(saved.config).toMatchObject({
      issuer: idp.issuer,
      clientId: idp.clientId,
      buttonLabel: "Test IdP",
      allowedDomains: ["example.com"],
    });
    expect(JSON.stringify(saved)).not.toContain(idp.clientSecret);
    expect(saved.redirectUri).toBe(`${srv.url}/api/v1/auth/oidc/callback`);
    const [row] = await srv.sql`select client_secret_sealed from organization_oidc`;
    expect(row?.client_secret_sealed).toStartWith("v1.");
    expect(row?.client_secret_sealed).not.toContain(idp.clientSecret);
    // changing settings without the secret keeps it
    expect((await put({ ...settings(), clientSecret: undefined })).status).toBe(200);
    const providers = (await (await fetch(`${srv.url}/api/v1/auth/oidc/providers`)).json()) as { items: unknown[] };
    expect(providers.items).toEqual([{ label: "Test IdP", startUrl: `/api/v1/auth/oidc/start?org=${organizationId}` }]);
    const [audit] = await srv.sql`select details from audit_log where action = 'auth.oidc_configured' order by id desc limit 1`;
    expect(JSON.stringify(audit?.details)).not.toContain(idp.clientSecret);
  });
});

describe("signing in through the provider", () => {
  test("a known user with a verified e-mail gets the session cookie and lands on the dashboard", async () => {
    const { location, app } = await signIn(ADMIN.email);
    expect(location).toBe("/devices");
    expect(app.values.has("sentpulse_oidc")).toBe(false);
    const me = await fetch(`${srv.url}/api/v1/auth/me`, {
      headers: { cookie: `sentpulse_session=${app.values.get("sentpulse_session")}` },
    });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { principal: { email: string } }).principal.email).toBe(ADMIN.email);
    const [audit] = await srv.sql`select actor_name, details from audit_log where action = 'auth.login' order by id desc limit 1`;
    expect(audit).toMatchObject({ actor_name: ADMIN.email, details: { via: "oidc", issuer: idp.issuer } });
  });

  test("the same callback again (a replayed code) → refused by the provider, no session", async () => {
    const { app, callback } = await toCallback(ADMIN.email);
    const flow = app.values.get("sentpulse_oidc") ?? "";
    expect((await go(app, callback)).headers.get("location")).toBe("/devices");
    const sessions = (await srv.sql`select 1 from sessions`).count;
    const replay = await fetch(callback, { redirect: "manual", headers: { cookie: `sentpulse_oidc=${flow}` } });
    expect(replay.headers.get("location")).toBe("/login?sso_error=OIDC_CODE_REJECTED");
    expect(replay.headers.getSetCookie().some((c) => c.startsWith("sentpulse_session="))).toBe(false);
    expect((await srv.sql`select 1 from sessions`).count).toBe(sessions);
  });

  test("a wrong state, or no flow cookie → refused, nothing created", async () => {
    const before = await tableCounts(srv.sql);
    const { app, callback } = await toCallback("new.tech@example.com");
    const forged = new URL(callback);
    forged.searchParams.set("state", "forged-state");
    const wrong = await go(app, forged.href);
    expect(wrong.headers.get("location")).toBe("/login?sso_error=OIDC_STATE_MISMATCH");
    const bare = await fetch(callback, { redirect: "manual" });
    expect(bare.headers.get("location")).toBe("/login?sso_error=OIDC_STATE_MISSING");
    expect({ ...(await tableCounts(srv.sql)), audit_log: 0 }).toEqual({ ...before, audit_log: 0 });
    const refused = await srv.sql`select details from audit_log where action = 'auth.oidc_refused' order by id desc limit 1`;
    expect(refused[0]?.details).toMatchObject({ code: "OIDC_STATE_MISMATCH" });
  });

  test("an unknown user is refused while auto-create is off, and created with the default role when on", async () => {
    expect((await signIn("new.tech@example.com")).location).toBe("/login?sso_error=OIDC_USER_UNKNOWN");
    expect((await srv.sql`select 1 from users where email = 'new.tech@example.com'`).count).toBe(0);
    expect((await put(settings({ autoCreate: true }))).status).toBe(200);
    expect((await signIn("new.tech@example.com")).location).toBe("/devices");
    const [user] = await srv.sql`select role, name, organization_id from users where email = 'new.tech@example.com'`;
    expect(user).toMatchObject({ role: "technician", name: "New Tech", organization_id: organizationId });
    const [created] = await srv.sql`select details from audit_log where action = 'user.created' order by id desc limit 1`;
    expect(created?.details).toMatchObject({ via: "oidc" });
  });

  test("a domain outside the allowed list, or an unverified e-mail → refused with its code, nobody created", async () => {
    expect((await signIn("stranger@elsewhere.org")).location).toBe("/login?sso_error=OIDC_DOMAIN_NOT_ALLOWED");
    expect((await signIn("unverified@example.com")).location).toBe("/login?sso_error=OIDC_EMAIL_UNVERIFIED");
    expect((await srv.sql`select 1 from users where email in ('stranger@elsewhere.org', 'unverified@example.com')`).count).toBe(0);
    const codes = await srv.sql<{ code: string }[]>`
      select details->>'code' as code from audit_log where action = 'auth.oidc_refused' order by id desc limit 2`;
    expect(codes.map((c) => c.code)).toEqual(["OIDC_EMAIL_UNVERIFIED", "OIDC_DOMAIN_NOT_ALLOWED"]);
  });

  test("another organization's user, even with auto-create on, or a disabled user → refused, no session", async () => {
    const other = await otherOrganization(srv.sql);
    idp.users.set(other.email, { email: other.email, verified: true });
    expect((await signIn(other.email)).location).toBe("/login?sso_error=OIDC_USER_UNKNOWN");
    const [tech] = await srv.sql<{ id: string }[]>`select id from users where email = 'new.tech@example.com'`;
    expect((await srv.api(`/api/v1/users/${tech!.id}`, { method: "PATCH", body: { disabled: true } })).status).toBe(200);
    expect((await signIn("new.tech@example.com")).location).toBe("/login?sso_error=OIDC_USER_DISABLED");
    const theirs = await srv.sql`
      select 1 from sessions s join users u on u.id = s.user_id where u.email in (${other.email}, 'new.tech@example.com')`;
    expect(theirs.count).toBe(0);
    expect((await srv.sql`select 1 from users where email = ${other.email}`).count).toBe(1);
  });

  test("an ID token for another audience or issuer, with another nonce, or expired → refused, no session", async () => {
    const cases: [string, (c: Record<string, unknown>) => Record<string, unknown>][] = [
      ["audience", (c) => ({ ...c, aud: "someone-else" })],
      ["issuer", (c) => ({ ...c, iss: "https://impostor.example.com" })],
      ["nonce", (c) => ({ ...c, nonce: "another-nonce" })],
      ["expiry", (c) => ({ ...c, iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 })],
    ];
    try {
      // the rig itself: a token signed again unchanged is accepted
      idp.tamper = (c) => c;
      expect((await signIn(ADMIN.email)).location).toBe("/devices");
      const sessions = (await srv.sql`select 1 from sessions`).count;
      for (const [what, tamper] of cases) {
        idp.tamper = tamper;
        const { location, app } = await signIn(ADMIN.email);
        expect([what, location]).toEqual([what, "/login?sso_error=OIDC_TOKEN_INVALID"]);
        expect(app.values.has("sentpulse_session")).toBe(false);
      }
      expect((await srv.sql`select 1 from sessions`).count).toBe(sessions);
    } finally {
      idp.tamper = undefined;
    }
  });

  test("a user with TOTP on signs in through the provider without a code (its MFA is trusted)", async () => {
    await srv.sql`update user_totp set secret_sealed = ${srv.server.services.secrets.seal("JBSWY3DPEHPK3PXP")}, enabled_at = now()
                  where user_id = (select id from users where email = ${ADMIN.email})`;
    try {
      expect((await signIn(ADMIN.email)).location).toBe("/devices");
    } finally {
      await srv.sql`update user_totp set enabled_at = null, secret_sealed = null where user_id = (select id from users where email = ${ADMIN.email})`;
    }
  });

  test("start for an organization without OpenID Connect → back to the login page with a code", async () => {
    const res = await fetch(`${srv.url}/api/v1/auth/oidc/start?org=${crypto.randomUUID()}`, { redirect: "manual" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/login?sso_error=OIDC_NOT_CONFIGURED");
  });

  test("with several organizations the login page lists no tenant: only /login?org=<slug> shows that one's button", async () => {
    const view = (await (await srv.api("/api/v1/auth/oidc")).json()) as { signInUrl: string };
    const [{ slug }] = (await srv.sql`select slug from organizations where id = ${organizationId}`) as unknown as [{ slug: string }];
    expect(view.signInUrl).toBe(`${srv.url}/login?org=${slug}`);
    const other = await otherOrganization(srv.sql);
    const [{ slug: theirs }] = (await srv.sql`select slug from organizations where id = ${other.organizationId}`) as unknown as [
      { slug: string },
    ];
    expect(theirs).toMatch(/^other-msp(-\d+)?$/);
    const list = async (query: string) => {
      const res = await fetch(`${srv.url}/api/v1/auth/oidc/providers${query}`);
      return [res.status, res.status === 200 ? ((await res.json()) as { items: { label: string }[] }).items.map((p) => p.label) : null];
    };
    expect(await list("")).toEqual([200, []]);
    expect(await list(`?org=${slug}`)).toEqual([200, ["Test IdP"]]);
    expect(await list(`?org=${theirs}`)).toEqual([200, []]);
    expect(await list("?org=nobody")).toEqual([200, []]);
    expect((await list("?org=..%2Fx"))[0]).toBe(422);
    await srv.sql`delete from organizations where id = ${other.organizationId}`;
  });

  test("turned off: the button goes away", async () => {
    expect((await srv.api("/api/v1/auth/oidc", { method: "DELETE" })).status).toBe(200);
    const providers = (await (await fetch(`${srv.url}/api/v1/auth/oidc/providers`)).json()) as { items: unknown[] };
    expect(providers.items).toEqual([]);
  });
});
