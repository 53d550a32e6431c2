import { Show, createResource, createSignal } from "solid-js";
import * as v from "valibot";
import { ConfirmDialog } from "../components/ConfirmDialog.tsx";
import { CopyField } from "../components/CopyField.tsx";
import { api, call, errorMessage } from "../lib/api.ts";
import { fieldErrors } from "../lib/forms.ts";
import { roleAtLeast } from "../lib/roles.ts";
import { principal } from "../lib/session.ts";
import { toast } from "../lib/toast.ts";
import "./security.css";

const SsoForm = v.object({
  issuer: v.pipe(v.string(), v.trim(), v.nonEmpty("Enter the issuer URL."), v.url("That is not a URL."), v.maxLength(500)),
  clientId: v.pipe(v.string(), v.trim(), v.nonEmpty("Enter the client ID."), v.maxLength(300)),
  clientSecret: v.pipe(v.string(), v.maxLength(1000)),
  allowedDomains: v.pipe(
    v.string(),
    v.transform((s) =>
      s
        .split(/[,\s]+/)
        .map((d) => d.trim())
        .filter(Boolean),
    ),
    v.maxLength(50, "At most 50 domains."),
  ),
  defaultRole: v.picklist(["admin", "technician", "readonly"]),
  autoCreate: v.boolean(),
  buttonLabel: v.pipe(v.string(), v.trim(), v.nonEmpty("Enter the button's label."), v.maxLength(60)),
});

/** Settings → Single sign-on (admins): the organization's OpenID Connect provider. */
export function SingleSignOn() {
  const admin = () => roleAtLeast(principal()?.role, "admin");
  const [sso, { refetch }] = createResource(admin, () => call(api.api.v1.auth.oidc.get()));
  const [errors, setErrors] = createSignal<Record<string, string>>({});
  const [error, setError] = createSignal("");
  const [busy, setBusy] = createSignal(false);
  const [confirming, setConfirming] = createSignal(false);

  const save = async (e: SubmitEvent) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const parsed = v.safeParse(SsoForm, {
      issuer: String(form.get("issuer") ?? ""),
      clientId: String(form.get("clientId") ?? ""),
      clientSecret: String(form.get("clientSecret") ?? ""),
      allowedDomains: String(form.get("allowedDomains") ?? ""),
      defaultRole: String(form.get("defaultRole") ?? ""),
      autoCreate: form.get("autoCreate") === "on",
      buttonLabel: String(form.get("buttonLabel") ?? ""),
    });
    setError("");
    if (!parsed.success) return setErrors(fieldErrors(parsed.issues));
    setErrors({});
    const { clientSecret, ...rest } = parsed.output;
    setBusy(true);
    try {
      await call(api.api.v1.auth.oidc.put({ ...rest, ...(clientSecret ? { clientSecret } : {}) }));
      toast("success", "Single sign-on saved: the login page shows its button.");
      refetch();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const turnOff = async () => {
    try {
      await call(api.api.v1.auth.oidc.delete());
      toast("success", "Single sign-on is off.");
      refetch();
    } catch (err) {
      toast("error", errorMessage(err));
    }
  };
  const field = (name: string) => ({
    id: `sso-${name}`,
    name,
    "data-testid": `sso-${name}`,
    "aria-invalid": !!errors()[name],
    "aria-describedby": errors()[name] ? `sso-${name}-error` : undefined,
  });
  const problem = (name: string) => (
    <Show when={errors()[name]}>
      <span class="field-error" id={`sso-${name}-error`}>
        {errors()[name]}
      </span>
    </Show>
  );

  return (
    <Show when={admin()}>
      <section class="card section" aria-labelledby="sso-title" data-testid="sso">
        <div class="section-head">
          <div>
            <h2 id="sso-title">Single sign-on (OpenID Connect)</h2>
            <p class="muted">
              Let your people sign in with Entra ID, Google Workspace, Keycloak or any OpenID provider. The provider's own multi-factor
              sign-in stands in for SENTpulse's two-factor codes.
            </p>
          </div>
          <Show when={sso()?.config}>
            <span class="pill" data-testid="sso-state">
              on
            </span>
          </Show>
        </div>
        <Show when={sso()}>
          {(s) => (
            <>
              <p class="muted">Register this redirect URI with your provider:</p>
              <CopyField value={s().redirectUri} label="redirect URI" testid="sso-redirect-uri" />
              <p class="muted">Your technicians sign in at this address, which shows your single sign-on button:</p>
              <CopyField value={s().signInUrl} label="sign-in address" testid="sso-sign-in-url" />
              <Show when={error()}>
                <div class="error-note form-error" role="alert" data-testid="sso-error">
                  {error()}
                </div>
              </Show>
              <form class="inline-form" onSubmit={save} novalidate aria-label="Single sign-on settings">
                <div class="field grow">
                  <label for="sso-issuer">Issuer URL</label>
                  <input
                    type="url"
                    placeholder="https://login.microsoftonline.com/<tenant>/v2.0"
                    value={s().config?.issuer ?? ""}
                    {...field("issuer")}
                  />
                  {problem("issuer")}
                </div>
                <div class="field grow">
                  <label for="sso-clientId">Client ID</label>
                  <input value={s().config?.clientId ?? ""} autocomplete="off" {...field("clientId")} />
                  {problem("clientId")}
                </div>
                <div class="field grow">
                  <label for="sso-clientSecret">Client secret</label>
                  <input
                    type="password"
                    autocomplete="new-password"
                    placeholder={s().config ? "unchanged" : ""}
                    {...field("clientSecret")}
                  />
                  {problem("clientSecret")}
                </div>
                <div class="field grow">
                  <label for="sso-allowedDomains">Allowed e-mail domains</label>
                  <input
                    placeholder="example.com, example.org (empty: any)"
                    value={s().config?.allowedDomains.join(", ") ?? ""}
                    {...field("allowedDomains")}
                  />
                  {problem("allowedDomains")}
                </div>
                <div class="field grow">
                  <label for="sso-buttonLabel">Button label</label>
                  <input placeholder="Microsoft" value={s().config?.buttonLabel ?? ""} {...field("buttonLabel")} />
                  {problem("buttonLabel")}
                </div>
                <div class="field grow">
                  <label for="sso-defaultRole">Role of new users</label>
                  <select {...field("defaultRole")}>
                    <option value="readonly" selected={s().config?.defaultRole === "readonly"}>
                      Read-only
                    </option>
                    <option value="technician" selected={(s().config?.defaultRole ?? "technician") === "technician"}>
                      Technician
                    </option>
                    <option value="admin" selected={s().config?.defaultRole === "admin"}>
                      Admin
                    </option>
                  </select>
                </div>
                <label class="check-row">
                  <input type="checkbox" name="autoCreate" checked={s().config?.autoCreate ?? false} data-testid="sso-autoCreate" />
                  Create users at their first sign-in (verified e-mail of an allowed domain)
                </label>
                <button type="submit" class="btn btn-primary" disabled={busy()} data-testid="sso-save">
                  {busy() ? "Checking the provider…" : "Save"}
                </button>
                <Show when={s().config}>
                  <button type="button" class="btn" onClick={() => setConfirming(true)} data-testid="sso-off">
                    Turn off
                  </button>
                </Show>
              </form>
            </>
          )}
        </Show>
        <ConfirmDialog
          open={confirming()}
          title="Turn single sign-on off?"
          message="The login page loses its button; people without a password cannot sign in until it is back."
          confirmLabel="Turn off"
          danger
          onConfirm={() => void turnOff()}
          onClose={() => setConfirming(false)}
        />
      </section>
    </Show>
  );
}
