import { useNavigate, useSearchParams } from "@solidjs/router";
import { For, Show, createResource, createSignal, onMount } from "solid-js";
import * as v from "valibot";
import { Logo } from "../components/Logo.tsx";
import { ThemeToggle } from "../components/ThemeToggle.tsx";
import { QrCode } from "../components/QrCode.tsx";
import { ApiError, api, call, errorMessage } from "../lib/api.ts";
import { fieldErrors } from "../lib/forms.ts";
import { loadSession, principal, safeNext, signIn } from "../lib/session.ts";
import { RecoveryCodes } from "./settings-security.tsx";
import "./login.css";
import "./security.css";

const LoginForm = v.object({
  email: v.pipe(v.string(), v.trim(), v.nonEmpty("Enter your email address."), v.email("That is not an email address."), v.maxLength(320)),
  password: v.pipe(v.string(), v.nonEmpty("Enter your password."), v.maxLength(1024)),
  totp: v.pipe(
    v.string(),
    v.trim(),
    v.regex(/^(\d{6}|[a-z2-9]{4}-?[a-z2-9]{4}-?[a-z2-9]{4})?$/i, "The code has 6 digits (a recovery code: xxxx-xxxx-xxxx)."),
  ),
});

/** What the login page says when single sign-on sent the browser back with `sso_error=CODE`. */
const SSO_ERRORS: Record<string, string> = {
  OIDC_USER_UNKNOWN: "Your organization has no SENTpulse user with that e-mail address. Ask an admin to add you.",
  OIDC_DOMAIN_NOT_ALLOWED: "That e-mail domain may not sign in here.",
  OIDC_EMAIL_UNVERIFIED: "Your provider has not verified your e-mail address.",
  OIDC_USER_DISABLED: "This account is disabled.",
  OIDC_STATE_MISMATCH: "That sign-in was not started from this browser. Try again.",
  OIDC_STATE_MISSING: "The sign-in took too long or was not started here. Try again.",
  OIDC_NOT_CONFIGURED: "Single sign-on is not set up for this organization.",
  OIDC_PROVIDER_UNREACHABLE: "The sign-in provider cannot be reached. Try again later.",
};

export default function Login() {
  document.title = "Sign in · SENTpulse";
  const navigate = useNavigate();
  const [params] = useSearchParams<{ next?: string; sso_error?: string; org?: string }>();
  // /login?org=<slug> shows that organization's single sign-on (remembered for the next visit)
  const org = (() => {
    const given = params.org && /^[a-z0-9][a-z0-9-]{0,62}$/.test(params.org) ? params.org : undefined;
    try {
      if (given) localStorage.setItem("sentpulse.org", given);
      return given ?? localStorage.getItem("sentpulse.org") ?? undefined;
    } catch {
      return given;
    }
  })();
  const [providers] = createResource(() =>
    call(api.api.v1.auth.oidc.providers.get({ query: org ? { org } : {} }), { auth: false }).then((r) => r.items),
  );
  const ssoError = () => {
    const code = params.sso_error;
    return code ? (SSO_ERRORS[code] ?? `Single sign-on failed (${code.slice(0, 40)}). Try again, or sign in with your password.`) : "";
  };
  const [errors, setErrors] = createSignal<Record<string, string>>({});
  const [serverError, setServerError] = createSignal("");
  const [busy, setBusy] = createSignal(false);
  /** Set once the server asks for a second factor (TOTP_REQUIRED) or for enrollment (TOTP_ENROLLMENT_REQUIRED). */
  const [codeNeeded, setCodeNeeded] = createSignal(false);
  const [enrollment, setEnrollment] = createSignal<{ secret: string; otpauthUrl: string } | null>(null);
  const [recoveryCodes, setRecoveryCodes] = createSignal<string[] | null>(null);
  const next = () => safeNext(params.next);

  onMount(async () => {
    // Skip the round trip when the shell just found the session gone.
    if (principal() === null) return;
    if (principal() ?? (await loadSession())) navigate(next(), { replace: true });
  });

  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const parsed = v.safeParse(LoginForm, {
      email: String(form.get("email") ?? ""),
      password: String(form.get("password") ?? ""),
      totp: String(form.get("totp") ?? ""),
    });
    setServerError("");
    if (!parsed.success) {
      setErrors(fieldErrors(parsed.issues));
      const first = Object.keys(fieldErrors(parsed.issues))[0];
      if (first) document.getElementById(`login-${first}`)?.focus();
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      const codes = await signIn(parsed.output.email, parsed.output.password, parsed.output.totp || undefined);
      if (codes) setRecoveryCodes(codes);
      else navigate(next(), { replace: true });
    } catch (err) {
      const code = err instanceof ApiError ? err.code : "";
      if (code === "TOTP_REQUIRED" || code === "TOTP_ENROLLMENT_REQUIRED") {
        const { secret, otpauthUrl } = err instanceof ApiError ? err.details : {};
        if (typeof secret === "string" && typeof otpauthUrl === "string") setEnrollment({ secret, otpauthUrl });
        setCodeNeeded(true);
        queueMicrotask(() => document.getElementById("login-totp")?.focus());
      } else {
        setServerError(errorMessage(err));
        document.getElementById(code === "INVALID_TOTP" ? "login-totp" : "login-password")?.focus();
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="login-page">
      <div class="login-theme">
        <ThemeToggle />
      </div>
      <main class="login-card card" id="main">
        <div class="login-brand">
          <Logo size={34} />
          <span>
            SENT<b>pulse</b>
          </span>
        </div>
        <h1>Sign in</h1>
        <p class="muted">Monitor and manage your fleet.</p>
        <Show when={recoveryCodes()}>
          {(codes) => <RecoveryCodes codes={codes()} onDone={() => navigate(next(), { replace: true })} />}
        </Show>
        <Show when={ssoError()}>
          <div class="error-note" role="alert" data-testid="sso-login-error">
            {ssoError()}
          </div>
        </Show>
        <Show when={!recoveryCodes() && providers()?.length}>
          <div class="sso-buttons">
            <For each={providers()}>
              {(p) => (
                <a class="btn sso-button" href={p.startUrl} rel="external" data-testid="sso-button">
                  Sign in with {p.label}
                </a>
              )}
            </For>
            <p class="muted sso-or">or with your password</p>
          </div>
        </Show>
        <form onSubmit={submit} novalidate hidden={!!recoveryCodes()} aria-describedby={serverError() ? "login-error" : undefined}>
          <Show when={serverError()}>
            <div class="error-note" id="login-error" role="alert" data-testid="login-error">
              {serverError()}
            </div>
          </Show>
          <div class="field">
            <label for="login-email">Email</label>
            <input
              id="login-email"
              name="email"
              type="email"
              autocomplete="username"
              inputmode="email"
              data-testid="login-email"
              aria-invalid={!!errors().email}
              aria-describedby={errors().email ? "login-email-error" : undefined}
              autofocus
            />
            <Show when={errors().email}>
              <span class="field-error" id="login-email-error">
                {errors().email}
              </span>
            </Show>
          </div>
          <div class="field">
            <label for="login-password">Password</label>
            <input
              id="login-password"
              name="password"
              type="password"
              autocomplete="current-password"
              data-testid="login-password"
              aria-invalid={!!errors().password}
              aria-describedby={errors().password ? "login-password-error" : undefined}
            />
            <Show when={errors().password}>
              <span class="field-error" id="login-password-error">
                {errors().password}
              </span>
            </Show>
          </div>
          <Show when={enrollment()}>
            {(e) => (
              <div class="totp-setup" data-testid="login-enroll">
                <p>Your organization requires two-factor sign-in. Scan this with your authenticator app, then enter its code.</p>
                <QrCode text={e().otpauthUrl} label="QR code to add SENTpulse to an authenticator app" size={180} />
                <code class="mono" data-testid="login-enroll-secret">
                  {e().secret}
                </code>
              </div>
            )}
          </Show>
          <Show when={codeNeeded()}>
            <div class="field">
              <label for="login-totp">Authentication code</label>
              <input
                id="login-totp"
                name="totp"
                type="text"
                inputmode="numeric"
                autocomplete="one-time-code"
                maxlength="16"
                placeholder="123456"
                data-testid="login-totp"
                aria-invalid={!!errors().totp}
                aria-describedby={errors().totp ? "login-totp-error" : "login-totp-help"}
              />
              <Show
                when={errors().totp}
                fallback={
                  <span class="muted" id="login-totp-help">
                    The 6-digit code from your app, or a recovery code.
                  </span>
                }
              >
                <span class="field-error" id="login-totp-error">
                  {errors().totp}
                </span>
              </Show>
            </div>
          </Show>
          <button type="submit" class="btn btn-primary login-submit" data-testid="login-submit" disabled={busy()}>
            {busy() ? "Signing in…" : "Sign in"}
          </button>
        </form>
      </main>
    </div>
  );
}
