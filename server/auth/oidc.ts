import * as client from "openid-client";
import type { SecretBox } from "../notifications/crypto.ts";
import type { OidcRow } from "./oidc.store.ts";

/** A refused OpenID Connect sign-in: the code goes to the login page (`/login?sso_error=CODE`). */
export class OidcRefused extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What the start of a sign-in keeps for its callback, sealed in a short-lived cookie. */
export interface FlowState {
  organizationId: string;
  state: string;
  nonce: string;
  verifier: string;
  /** Epoch milliseconds after which the callback is refused. */
  expiresAt: number;
}

/** How long a browser may take at the provider, in seconds (the flow cookie's lifetime). */
export const FLOW_TTL_S = 600;
export const FLOW_COOKIE = "sentpulse_oidc";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * The provider's configuration from its discovery document (issuer checked against the document's),
 * with the client's credentials; http is accepted only for a loopback issuer (a provider on this
 * machine, as in the tests). Throws the library's error with its reason.
 */
export function discover(issuer: string, clientId: string, clientSecret: string): Promise<client.Configuration> {
  const url = new URL(issuer);
  const insecure = url.protocol === "http:" && LOOPBACK.has(url.hostname);
  return client.discovery(url, clientId, clientSecret, client.ClientSecretPost(clientSecret), {
    timeout: 10,
    ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
  });
}

/** Discovered configurations per organization, refreshed when its settings change. */
export class OidcClients {
  private readonly cache = new Map<string, { key: string; config: Promise<client.Configuration> }>();

  constructor(private readonly secrets: SecretBox) {}

  get(row: OidcRow): Promise<client.Configuration> {
    const key = `${row.issuer} ${row.clientId} ${row.updatedAt.getTime()}`;
    const hit = this.cache.get(row.organizationId);
    if (hit?.key === key) return hit.config;
    const config = discover(row.issuer, row.clientId, this.secrets.open(row.clientSecretSealed));
    // a failed discovery is retried on the next sign-in
    config.catch(() => this.cache.delete(row.organizationId));
    this.cache.set(row.organizationId, { key, config });
    return config;
  }
}

/** The provider's authorization URL for a new sign-in, and the state its callback needs. */
export async function beginFlow(
  config: client.Configuration,
  organizationId: string,
  redirectUri: string,
): Promise<{ url: URL; flow: FlowState }> {
  const flow: FlowState = {
    organizationId,
    state: client.randomState(),
    nonce: client.randomNonce(),
    verifier: client.randomPKCECodeVerifier(),
    expiresAt: Date.now() + FLOW_TTL_S * 1000,
  };
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: "openid email profile",
    response_type: "code",
    state: flow.state,
    nonce: flow.nonce,
    code_challenge: await client.calculatePKCECodeChallenge(flow.verifier),
    code_challenge_method: "S256",
  });
  return { url, flow };
}

/** Seals the flow state for its cookie (AES-256-GCM: the browser can neither read nor alter it). */
export const sealFlow = (secrets: SecretBox, flow: FlowState): string => secrets.seal(JSON.stringify(flow));

/** The flow state of a cookie, or undefined when it is missing, altered or expired. */
export function openFlow(secrets: SecretBox, cookie: string | undefined): FlowState | undefined {
  if (!cookie || cookie.length > 2000) return undefined;
  try {
    const flow = JSON.parse(secrets.open(cookie)) as FlowState;
    return typeof flow.state === "string" && flow.expiresAt > Date.now() ? flow : undefined;
  } catch {
    // a cookie that does not open is a missing one
    return undefined;
  }
}

/** Who the provider says signed in. */
export interface OidcIdentity {
  subject: string;
  email: string;
  emailVerified: boolean;
  name: string;
}

/**
 * Exchanges the callback's code (with the PKCE verifier) and validates the ID token: signature,
 * issuer, audience, expiry and nonce, and the state. The e-mail comes from the ID token, else from
 * the userinfo endpoint. Refusals carry a code.
 */
export async function finishFlow(config: client.Configuration, callbackUrl: URL, flow: FlowState): Promise<OidcIdentity> {
  const params = callbackUrl.searchParams;
  if (params.get("error")) throw new OidcRefused("OIDC_PROVIDER_ERROR", `the provider answered ${params.get("error")?.slice(0, 100)}`);
  if (params.get("state") !== flow.state)
    throw new OidcRefused("OIDC_STATE_MISMATCH", "the sign-in does not match the one this browser started");
  let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
  try {
    tokens = await client.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
      expectedNonce: flow.nonce,
      idTokenExpected: true,
    });
  } catch (err) {
    if (err instanceof client.ResponseBodyError) throw new OidcRefused("OIDC_CODE_REJECTED", `the provider refused the code: ${err.error}`);
    throw new OidcRefused("OIDC_TOKEN_INVALID", `the provider's answer did not validate: ${errorCode(err)}`);
  }
  const claims = tokens.claims();
  if (!claims) throw new OidcRefused("OIDC_TOKEN_INVALID", "no ID token");
  let email = claims.email;
  let verified = claims.email_verified;
  let name = claims.name;
  if (typeof email !== "string") {
    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    email = info.email;
    verified = info.email_verified;
    name = info.name;
  }
  if (typeof email !== "string" || email.length > 320 || !email.includes("@"))
    throw new OidcRefused("OIDC_EMAIL_MISSING", "the provider gave no e-mail address");
  return { subject: claims.sub, email, emailVerified: verified === true, name: typeof name === "string" ? name.slice(0, 200) : "" };
}

/** The stable code of a library error, for logs and refusals (never its message, which may hold tokens). */
function errorCode(err: unknown): string {
  if (err && typeof err === "object" && "code" in err && typeof err.code === "string") return err.code;
  return err instanceof Error ? err.name : "unknown";
}
