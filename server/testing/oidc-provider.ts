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
  stop(): Promise<void>;
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
  const provider = new Provider(issuer, {
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
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", issuer);
    if (url.pathname === "/favicon.ico") {
      res.statusCode = 204;
      res.end();
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
  return {
    issuer,
    clientId,
    clientSecret,
    users,
    stop: () => new Promise<void>((done) => server.close(() => done())),
  };
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
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const login = new URLSearchParams(Buffer.concat(chunks).toString()).get("login") ?? "";
  if (!users.has(login)) {
    await provider.interactionFinished(req, res, { error: "access_denied", error_description: "unknown user" });
    return;
  }
  const grant = new provider.Grant({ accountId: login, clientId: String(details.params.client_id) });
  grant.addOIDCScope(String(details.params.scope ?? "openid"));
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId: login }, consent: { grantId } });
}
