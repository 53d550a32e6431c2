import { For, Show, createResource, createSignal } from "solid-js";
import * as v from "valibot";
import { ConfirmDialog } from "../components/ConfirmDialog.tsx";
import { CopyField } from "../components/CopyField.tsx";
import { ResourceList } from "../components/ResourceList.tsx";
import { RelativeTime } from "../components/RelativeTime.tsx";
import { api, call, errorMessage } from "../lib/api.ts";
import { dateTime } from "../lib/format.ts";
import { fieldErrors } from "../lib/forms.ts";
import { clientsOf, createSites } from "../lib/fleet.ts";
import { toast } from "../lib/toast.ts";
import type { ApiKey, NewApiKey } from "../lib/types.ts";

const KeyForm = v.object({
  name: v.pipe(v.string(), v.trim(), v.nonEmpty("Give the key a name, such as the program that uses it."), v.maxLength(200)),
  role: v.pipe(v.string(), v.nonEmpty("Pick a role.")),
  expiresInDays: v.union([
    v.literal(""),
    v.pipe(
      v.string(),
      v.transform(Number),
      v.integer("Whole days."),
      v.minValue(1, "At least a day."),
      v.maxValue(3650, "At most ten years."),
    ),
  ]),
});
const BUILT_IN_ROLES = [
  { value: "readonly", label: "Read only" },
  { value: "technician", label: "Technician" },
  { value: "admin", label: "Admin" },
] as const;
/** API keys: create with a role, scopes, clients and expiry (the key is shown once), list, rotate, revoke. */
export function ApiKeys() {
  const [keys, { refetch }] = createResource(() => call(api.api.v1["api-keys"].get()).then((r) => r.items));
  const [roles] = createResource(() => call(api.api.v1.roles.get()).then((r) => r.items));
  const [catalog] = createResource(() => call(api.api.v1.permissions.get()).then((r) => r.items));
  const sites = createSites();
  const [errors, setErrors] = createSignal<Record<string, string>>({});
  const [serverError, setServerError] = createSignal("");
  const [created, setCreated] = createSignal<NewApiKey | null>(null);
  const [busy, setBusy] = createSignal(false);
  const [revoking, setRevoking] = createSignal<ApiKey | null>(null);
  const [rotating, setRotating] = createSignal<ApiKey | null>(null);
  const [limitClients, setLimitClients] = createSignal(false);
  const [narrow, setNarrow] = createSignal(false);
  const clients = () => clientsOf(sites.data());
  const clientName = (id: string) => clients().find((c) => c.id === id)?.name ?? `${id.slice(0, 8)}…`;
  const [groups] = createResource(() => call(api.api.v1.groups.get()).then((r) => r.items));
  const groupName = (id: string) => `group ${groups.latest?.find((g) => g.id === id)?.name ?? "(deleted)"}`;
  const roleName = (k: ApiKey) => (k.roleId ? (roles()?.find((r) => r.id === k.roleId)?.name ?? "custom role") : k.role);

  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    const formEl = e.currentTarget as HTMLFormElement;
    const form = new FormData(formEl);
    const parsed = v.safeParse(KeyForm, {
      name: String(form.get("name") ?? ""),
      role: String(form.get("role") ?? ""),
      expiresInDays: String(form.get("expiresInDays") ?? ""),
    });
    setServerError("");
    if (!parsed.success) {
      setErrors(fieldErrors(parsed.issues));
      return;
    }
    const clientIds = limitClients() ? form.getAll("clientIds").map(String) : [];
    const groupIds = limitClients() ? form.getAll("groupIds").map(String) : [];
    if (limitClients() && clientIds.length + groupIds.length === 0)
      return setErrors({ clientIds: "Tick at least one client or smart group." });
    const scopes = narrow() ? form.getAll("scopes").map(String) : [];
    if (narrow() && scopes.length === 0) return setErrors({ scopes: "Tick at least one permission." });
    setErrors({});
    const { role, expiresInDays, name } = parsed.output;
    const body = {
      name,
      ...(role.startsWith("custom:") ? { roleId: role.slice("custom:".length) } : { role: role as "readonly" | "technician" | "admin" }),
      ...(clientIds.length ? { clientIds } : {}),
      ...(groupIds.length ? { groupIds } : {}),
      ...(scopes.length ? { scopes: scopes as never } : {}),
      ...(expiresInDays === "" ? {} : { expiresInDays }),
    };
    setBusy(true);
    try {
      setCreated(await call(api.api.v1["api-keys"].post(body)));
      formEl.reset();
      setLimitClients(false);
      setNarrow(false);
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
  const rotate = async (k: ApiKey, graceHours: number) => {
    setRotating(null);
    try {
      setCreated(await call(api.api.v1["api-keys"]({ id: k.id }).rotate.post({ graceHours })));
      toast("success", graceHours ? `"${k.name}" rotated; the old key works for ${graceHours} more hours.` : `"${k.name}" rotated.`);
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
            <For each={BUILT_IN_ROLES}>
              {(r) => (
                <option value={r.value} selected={r.value === "technician"}>
                  {r.label}
                </option>
              )}
            </For>
            <For each={roles() ?? []}>{(r) => <option value={`custom:${r.id}`}>{r.name}</option>}</For>
          </select>
        </div>
        <div class="field">
          <label for="k-expires">Expires after (days)</label>
          <input
            id="k-expires"
            name="expiresInDays"
            type="number"
            min="1"
            max="3650"
            placeholder="never"
            aria-describedby="k-expires-err"
          />
          <Show when={errors().expiresInDays}>
            <span class="field-error" id="k-expires-err">
              {errors().expiresInDays}
            </span>
          </Show>
        </div>
        <div class="key-limits">
          <label class="inline-check">
            <input type="checkbox" checked={limitClients()} onChange={(e) => setLimitClients(e.currentTarget.checked)} /> Only some clients
            or smart groups
          </label>
          <Show when={limitClients()}>
            <fieldset class="key-choices" data-testid="apikey-clients">
              <legend class="sr-only">Clients the key reaches</legend>
              <For each={clients()}>
                {(c) => (
                  <label class="inline-check">
                    <input type="checkbox" name="clientIds" value={c.id} /> {c.name}
                  </label>
                )}
              </For>
              <For each={groups.latest ?? []}>
                {(g) => (
                  <label class="inline-check" data-testid="apikey-group-choice">
                    <input type="checkbox" name="groupIds" value={g.id} /> group {g.name}
                  </label>
                )}
              </For>
            </fieldset>
            <p class="hint">
              A key limited to clients or smart groups keeps device-level permissions only and sees only those clients' devices and the
              groups' current members.
            </p>
            <Show when={errors().clientIds}>
              <span class="field-error">{errors().clientIds}</span>
            </Show>
          </Show>
          <label class="inline-check">
            <input type="checkbox" checked={narrow()} onChange={(e) => setNarrow(e.currentTarget.checked)} /> Only some permissions
          </label>
          <Show when={narrow()}>
            <fieldset class="key-choices" data-testid="apikey-scopes">
              <legend class="sr-only">Permissions the key holds</legend>
              <For each={(catalog() ?? []).filter((p) => !limitClients() || p.clientLevel)}>
                {(p) => (
                  <label class="inline-check" title={p.description}>
                    <input type="checkbox" name="scopes" value={p.name} /> <code>{p.name}</code>
                  </label>
                )}
              </For>
            </fieldset>
            <Show when={errors().scopes}>
              <span class="field-error">{errors().scopes}</span>
            </Show>
          </Show>
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
                  <th scope="col">Reaches</th>
                  <th scope="col">Created</th>
                  <th scope="col">Expires</th>
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
                      <td>
                        {roleName(k)}
                        <Show when={k.scopes}>{(sc) => <div class="muted">{sc().join(", ")}</div>}</Show>
                      </td>
                      <td>
                        {k.clientIds || k.groupIds ? (
                          [...(k.clientIds ?? []).map(clientName), ...(k.groupIds ?? []).map(groupName)].join(", ")
                        ) : (
                          <span class="muted">all clients</span>
                        )}
                      </td>
                      <td>{dateTime(k.createdAt)}</td>
                      <td>{k.expiresAt ? dateTime(k.expiresAt) : <span class="muted">never</span>}</td>
                      <td>{k.lastUsedAt ? <RelativeTime value={k.lastUsedAt} /> : <span class="muted">never</span>}</td>
                      <td class="right">
                        <Show when={!k.revokedAt} fallback={<span class="pill">revoked</span>}>
                          <button type="button" class="btn btn-sm" onClick={() => setRotating(k)} data-testid="apikey-rotate">
                            Rotate
                          </button>{" "}
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
        open={!!rotating()}
        title={`Rotate “${rotating()?.name ?? ""}”?`}
        message="A new key with the same role, scopes, clients and expiry is shown once. The old key keeps working for one hour, so the program can switch."
        confirmLabel="Rotate key"
        onConfirm={() => {
          const k = rotating();
          if (k) rotate(k, 1);
        }}
        onClose={() => setRotating(null)}
      />
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
