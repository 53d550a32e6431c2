import { For, Show, createResource, createSignal } from "solid-js";
import * as v from "valibot";
import { CopyField } from "../components/CopyField.tsx";
import { QrCode } from "../components/QrCode.tsx";
import { api, call, errorMessage } from "../lib/api.ts";
import { can } from "../lib/session.ts";
import { toast } from "../lib/toast.ts";
import "./security.css";

const Code = v.pipe(v.string(), v.trim(), v.regex(/^\d{6}$/, "The code has 6 digits."));

/** Recovery codes, shown once (after enrolling here or at sign-in), with a way to copy them all. */
export function RecoveryCodes(props: { codes: string[]; onDone: () => void }) {
  return (
    <div class="once" role="status" data-testid="recovery-codes">
      <p class="once-text">
        <strong>Save these recovery codes now.</strong> Each signs you in once if you lose your phone; they will not be shown again.
      </p>
      <ul class="recovery-codes mono">
        <For each={props.codes}>{(c) => <li>{c}</li>}</For>
      </ul>
      <CopyField value={props.codes.join("\n")} label="recovery codes" />
      <button type="button" class="btn btn-sm" onClick={() => props.onDone()} data-testid="recovery-codes-done">
        I saved them
      </button>
    </div>
  );
}

/** Settings → Security: the caller's two-factor sign-in (QR enrollment, recovery codes, turn off) and, for admins, the organization's policy. */
export function Security() {
  const [status, { refetch }] = createResource(() => call(api.api.v1.auth.totp.get()));
  const [setup, setSetup] = createSignal<{ secret: string; otpauthUrl: string } | null>(null);
  const [codes, setCodes] = createSignal<string[] | null>(null);
  const [error, setError] = createSignal("");
  const [busy, setBusy] = createSignal(false);
  const admin = () => can("settings:manage");
  const [policy, { refetch: refetchPolicy }] = createResource(admin, () => call(api.api.v1.auth.policy.get()));

  const run = async (work: () => Promise<void>) => {
    setError("");
    setBusy(true);
    try {
      await work();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const start = () =>
    run(async () => {
      setSetup(await call(api.api.v1.auth.totp.setup.post()));
    });
  const enable = (e: SubmitEvent) => {
    e.preventDefault();
    const parsed = v.safeParse(Code, String(new FormData(e.currentTarget as HTMLFormElement).get("code") ?? ""));
    if (!parsed.success) return setError(parsed.issues[0].message);
    return run(async () => {
      const res = await call(api.api.v1.auth.totp.enable.post({ code: parsed.output }));
      setSetup(null);
      setCodes(res.recoveryCodes);
      toast("success", "Two-factor sign-in is on.");
      refetch();
    });
  };
  const disable = (e: SubmitEvent) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const code = String(form.get("code") ?? "").trim();
    const password = String(form.get("password") ?? "");
    if (!code && !password) return setError("Enter a code from your app, a recovery code, or your password.");
    return run(async () => {
      await call(api.api.v1.auth.totp.disable.post(code ? { code } : { password }));
      toast("success", "Two-factor sign-in is off.");
      refetch();
    });
  };
  const setRequired = async (requireTotp: boolean) => {
    await run(async () => {
      await call(api.api.v1.auth.policy.put({ requireTotp }));
      toast("success", requireTotp ? "Everyone now signs in with two factors." : "Two-factor sign-in is optional again.");
      refetch();
    });
    refetchPolicy();
  };

  return (
    <section class="card section" aria-labelledby="security-title" data-testid="security">
      <div class="section-head">
        <div>
          <h2 id="security-title">Two-factor sign-in</h2>
          <p class="muted">A code from an authenticator app (Google Authenticator, 1Password, Aegis …) on top of your password.</p>
        </div>
        <Show when={status()}>
          {(s) => (
            <span class="pill" data-testid="totp-state">
              {s().enabled ? "on" : "off"}
            </span>
          )}
        </Show>
      </div>
      <Show when={error()}>
        <div class="error-note form-error" role="alert" data-testid="security-error">
          {error()}
        </div>
      </Show>
      <Show when={codes()}>{(c) => <RecoveryCodes codes={c()} onDone={() => setCodes(null)} />}</Show>
      <Show when={status()}>
        {(s) => (
          <Show
            when={s().enabled}
            fallback={
              <Show
                when={setup()}
                fallback={
                  <button type="button" class="btn btn-primary" onClick={start} disabled={busy()} data-testid="totp-start">
                    Turn on two-factor sign-in
                  </button>
                }
              >
                {(pending) => (
                  <div class="totp-setup">
                    <QrCode text={pending().otpauthUrl} label="QR code to add SENTpulse to an authenticator app" />
                    <div class="totp-steps">
                      <p>Scan the code with your authenticator app, or enter this key by hand:</p>
                      <CopyField value={pending().secret} label="secret key" testid="totp-secret" />
                      <form class="inline-form" onSubmit={enable} novalidate>
                        <div class="field">
                          <label for="totp-code">Code from the app</label>
                          <input
                            id="totp-code"
                            name="code"
                            inputmode="numeric"
                            autocomplete="one-time-code"
                            maxlength="6"
                            data-testid="totp-code"
                          />
                        </div>
                        <button type="submit" class="btn btn-primary" disabled={busy()} data-testid="totp-enable">
                          Turn on
                        </button>
                      </form>
                    </div>
                  </div>
                )}
              </Show>
            }
          >
            <p>
              On. {s().recoveryCodesLeft} of 10 recovery codes left.
              <Show when={s().requiredByOrganization}> Your organization requires it.</Show>
            </p>
            <Show when={!s().requiredByOrganization}>
              <form class="inline-form" onSubmit={disable} novalidate>
                <div class="field">
                  <label for="totp-off-code">Current code or a recovery code</label>
                  <input id="totp-off-code" name="code" autocomplete="one-time-code" maxlength="16" />
                </div>
                <div class="field">
                  <label for="totp-off-password">or your password</label>
                  <input id="totp-off-password" name="password" type="password" autocomplete="current-password" />
                </div>
                <button type="submit" class="btn btn-danger" disabled={busy()} data-testid="totp-disable">
                  Turn off
                </button>
              </form>
            </Show>
          </Show>
        )}
      </Show>
      <Show when={policy()}>
        {(p) => (
          <label class="check-row">
            <input
              type="checkbox"
              checked={p().requireTotp}
              disabled={busy()}
              onChange={(e) => setRequired(e.currentTarget.checked)}
              data-testid="require-totp"
            />
            Require two-factor sign-in for everyone in the organization (people without it set it up at their next sign-in)
          </label>
        )}
      </Show>
    </section>
  );
}
