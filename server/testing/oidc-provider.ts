import { type KeyObject, generateKeyPairSync, sign } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";

/** One person at the test provider: the account id is the e-mail address. */
interface IdpUser {
  email: string;
  verified: boolean;
  name?: string;
}

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  users: Map<string, IdpUser>;
  /**
   * When set, the token endpoint's ID tokens are rewritten by it and signed again with the provider's
   * own key (a provider that issues a token for another audience, issuer or nonce, or an expired one).
   */
  tamper?: ((claims: Record<string, unknown>) => Record<string, unknown>) | undefined;
  stop(): Promise<void>;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** The ID token with its claims changed by `tamper`, signed RS256 with `key` (the provider's). */
function resign(idToken: string, key: KeyObject, tamper: (claims: Record<string, unknown>) => Record<string, unknown>): string {
  const [header = "", payload = ""] = idToken.split(".");
  const claims = tamper(JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>);
  const input = `${header}.${b64(claims)}`;
  return `${input}.${sign("sha256", Buffer.from(input), key).toString("base64url")}`;
}

/**
 * A real OpenID Provider (`oidc-provider`, certified) on a loopback port, with one confidential
 * client (client_secret_post, PKCE required) whose redirect URI is `redirectUri`, and a tiny sign-in
 * page of its own at `/interaction/:uid`: a form with the e-mail address, which signs that user in
 * and grants the requested scopes (no consent screen). Users are added to `users`.
 */
export async function startTestIdp(redirectUri: string): Promise<TestIdp> {
  const users = new Map<string, IdpUser>();
  const clientId = "sentpulse-test";
  const clientSecret = `secret-${crypto.randomUUID()}`;
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: "jwk" }), kid: "test-key", alg: "RS256", use: "sig" };
  const provider = new Provider(issuer, {
    jwks: { keys: [signingKey] },
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectUri],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_post",
      },
    ],
    async findAccount(_ctx: unknown, sub: string) {
      const user = users.get(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        claims: async () => ({ sub, email: user.email, email_verified: user.verified, name: user.name ?? user.email }),
      };
    },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    cookies: { keys: [crypto.randomUUID()] },
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 600, IdToken: 600, Interaction: 600, Session: 600 },
  });
  const handle = provider.callback();
  const idp: TestIdp = {
    issuer,
    clientId,
    clientSecret,
    users,
    stop: () => new Promise<void>((done) => server.close(() => done())),
  };
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", issuer);
    if (url.pathname === "/favicon.ico") {
      res.statusCode = 204;
      res.end();
      return;
    }
    const tamper = idp.tamper;
    if (tamper && url.pathname === "/token" && !req.headers["x-untampered"]) {
      void tampered(req, res, `${issuer}/token`, (token) => resign(token, privateKey, tamper));
      return;
    }
    if (!url.pathname.startsWith("/interaction/")) {
      handle(req, res);
      return;
    }
    void interaction(provider, req, res, users).catch((err) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  return idp;
}

/** Reads a request's body. */
async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

/** Passes a token request to the provider itself, then answers its response with the ID token rewritten. */
async function tampered(req: IncomingMessage, res: ServerResponse, tokenUrl: string, rewrite: (idToken: string) => string) {
  const upstream = await fetch(tokenUrl, {
    method: "POST",
    headers: { "content-type": String(req.headers["content-type"]), "x-untampered": "1" },
    body: await bodyOf(req),
  });
  const body = (await upstream.json()) as { id_token?: string };
  if (body.id_token) body.id_token = rewrite(body.id_token);
  res.statusCode = upstream.status;
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify(body));
}

/** The provider's sign-in page (GET) and its form (POST: the e-mail address signs in and consents). */
async function interaction(provider: Provider, req: IncomingMessage, res: ServerResponse, users: Map<string, IdpUser>) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === "GET") {
    res.setHeader("content-type", "text/html; charset=utf-8");
    res.end(`<!doctype html><html><head><title>Test IdP sign-in</title></head><body>
<form method="post" action="/interaction/${details.uid}">
<label>E-mail <input name="login" data-testid="idp-login"></label>
<button type="submit" data-testid="idp-submit">Sign in</button>
</form></body></html>`);
    return;
  }
  const login = new URLSearchParams(await bodyOf(req)).get("login") ?? "";
  if (!users.has(login)) {
    await provider.interactionFinished(req, res, { error: "access_denied", error_description: "unknown user" });
    return;
  }
  const grant = new provider.Grant({ accountId: login, clientId: String(details.params.client_id) });
  grant.addOIDCScope(String(details.params.scope ?? "openid"));
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId: login }, consent: { grantId } });
}
