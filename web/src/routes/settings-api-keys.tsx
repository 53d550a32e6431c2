import { For, Show, createResource, createSignal } from "solid-js";
import * as v from "valibot";
import { ConfirmDialog } from "../components/ConfirmDialog.tsx";
import { CopyField } from "../components/CopyField.tsx";
import { ResourceList } from "../components/ResourceList.tsx";
import { RelativeTime } from "../components/RelativeTime.tsx";
import { api, call, errorMessage } from "../lib/api.ts";
import { dateTime } from "../lib/format.ts";
import { fieldErrors } from "../lib/forms.ts";
import { toast } from "../lib/toast.ts";
import type { ApiKey, NewApiKey } from "../lib/types.ts";

const KeyForm = v.object({
  name: v.pipe(v.string(), v.trim(), v.nonEmpty("Give the key a name, such as the program that uses it."), v.maxLength(200)),
  role: v.picklist(["readonly", "technician", "admin"], "Pick a role."),
});

/** API keys: create (the key is shown once), list, revoke. Needs the admin role. */
export function ApiKeys() {
  const [keys, { refetch }] = createResource(() => call(api.api.v1["api-keys"].get()).then((r) => r.items));
  const [errors, setErrors] = createSignal<Record<string, string>>({});
  const [serverError, setServerError] = createSignal("");
  const [created, setCreated] = createSignal<NewApiKey | null>(null);
  const [busy, setBusy] = createSignal(false);
  const [revoking, setRevoking] = createSignal<ApiKey | null>(null);

  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    const formEl = e.currentTarget as HTMLFormElement;
    const form = new FormData(formEl);
    const parsed = v.safeParse(KeyForm, { name: String(form.get("name") ?? ""), role: String(form.get("role") ?? "") });
    setServerError("");
    if (!parsed.success) {
      setErrors(fieldErrors(parsed.issues));
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      setCreated(await call(api.api.v1["api-keys"].post(parsed.output)));
      formEl.reset();
      refetch();
    } catch (err) {
      setServerError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (k: ApiKey) => {
    try {
      await call(api.api.v1["api-keys"]({ id: k.id }).delete());
      toast("success", `API key "${k.name}" revoked.`);
      if (created()?.id === k.id) setCreated(null);
      refetch();
    } catch (err) {
      toast("error", errorMessage(err));
    }
  };

  return (
    <section class="card section" aria-labelledby="keys-title">
      <div class="section-head">
        <div>
          <h2 id="keys-title">API keys</h2>
          <p class="muted">
            Programs send a key as <code>Authorization: Bearer …</code>. A key is shown once, when it is created.
          </p>
        </div>
      </div>
      <form class="inline-form" onSubmit={submit} novalidate>
        <div class="field grow">
          <label for="k-name">Name</label>
          <input
            id="k-name"
            name="name"
            placeholder="Billing sync"
            aria-invalid={!!errors().name}
            aria-describedby={errors().name ? "k-name-err" : undefined}
          />
          <Show when={errors().name}>
            <span class="field-error" id="k-name-err">
              {errors().name}
            </span>
          </Show>
        </div>
        <div class="field">
          <label for="k-role">Role</label>
          <select id="k-role" name="role">
            <option value="readonly">Read only</option>
            <option value="technician" selected>
              Technician
            </option>
            <option value="admin">Admin</option>
          </select>
        </div>
        <button type="submit" class="btn btn-primary" disabled={busy()} data-testid="apikey-create">
          {busy() ? "Creating…" : "Create key"}
        </button>
      </form>
      <Show when={serverError()}>
        <div class="error-note form-error" role="alert">
          {serverError()}
        </div>
      </Show>
      <Show when={created()}>
        {(k) => (
          <div class="once" role="status">
            <p class="once-text">
              <strong>Copy the key for “{k().name}” now.</strong> It will not be shown again.
            </p>
            <CopyField value={k().key} label="API key" testid="apikey-value" />
            <button type="button" class="btn btn-sm" onClick={() => setCreated(null)}>
              I saved it
            </button>
          </div>
        )}
      </Show>
      <ResourceList
        data={keys}
        retry={refetch}
        empty="No API keys yet. Create one for each program that talks to SENTpulse, so each can be revoked alone."
      >
        {(list) => (
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Key</th>
                  <th scope="col">Role</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                <For each={list()}>
                  {(k) => (
                    <tr data-testid="apikey-row" classList={{ revoked: !!k.revokedAt }}>
                      <td>{k.name}</td>
                      <td class="mono">{k.prefix}…</td>
                      <td>{k.role}</td>
                      <td>{dateTime(k.createdAt)}</td>
                      <td>{k.lastUsedAt ? <RelativeTime value={k.lastUsedAt} /> : <span class="muted">never</span>}</td>
                      <td class="right">
                        <Show when={!k.revokedAt} fallback={<span class="pill">revoked</span>}>
                          <button type="button" class="btn btn-sm btn-danger" onClick={() => setRevoking(k)}>
                            Revoke
                          </button>
                        </Show>
                      </td>
                    </tr>
                  )}
                </For>
              </tbody>
            </table>
          </div>
        )}
      </ResourceList>
      <ConfirmDialog
        open={!!revoking()}
        title={`Revoke “${revoking()?.name ?? ""}”?`}
        message="Programs using this key get 401 from now on. This cannot be undone."
        confirmLabel="Revoke key"
        danger
        onConfirm={() => {
          const k = revoking();
          if (k) revoke(k);
        }}
        onClose={() => setRevoking(null)}
      />
    </section>
  );
}
