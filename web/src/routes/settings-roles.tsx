import { For, Show, createResource, createSignal } from "solid-js";
import { ConfirmDialog } from "../components/ConfirmDialog.tsx";
import { ResourceList } from "../components/ResourceList.tsx";
import { api, call, errorMessage } from "../lib/api.ts";
import { can } from "../lib/session.ts";
import { toast } from "../lib/toast.ts";
import type { Data } from "../lib/types.ts";

/** A custom role as the API gives it (derived from the route through Eden). */
type CustomRole = Data<typeof api.api.v1.roles.get>["items"][number];

/**
 * Settings → Roles (users:manage): the organization's custom roles, each a name and the permissions
 * ticked for it; a role nobody holds can be deleted. Users get one in Settings → Users or the API.
 */
export function Roles() {
  return (
    <Show when={can("users:manage")}>
      <RolesSection />
    </Show>
  );
}

/** The section itself: its requests start only for those who may make them (no 403 in the console). */
function RolesSection() {
  const [roles, { refetch }] = createResource(() => call(api.api.v1.roles.get()).then((r) => r.items));
  const [catalog] = createResource(() => call(api.api.v1.permissions.get()).then((r) => r.items));
  const [removing, setRemoving] = createSignal<CustomRole | null>(null);
  const [busy, setBusy] = createSignal(false);
  /** The role being edited (the form then saves it), or null to create one. */
  const [editing, setEditing] = createSignal<CustomRole | null>(null);

  const save = async (e: SubmitEvent) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const name = String(data.get("name") ?? "").trim();
    const permissions = data.getAll("permission").map(String);
    if (!name) return;
    setBusy(true);
    try {
      const current = editing();
      if (current) await call(api.api.v1.roles({ id: current.id }).put({ name, permissions }));
      else await call(api.api.v1.roles.post({ name, permissions }));
      toast("success", current ? `Role ${name} saved; its users have the new permissions now.` : `Role ${name} created.`);
      form.reset();
      setEditing(null);
      refetch();
    } catch (err) {
      toast("error", errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const remove = async (r: CustomRole) => {
    try {
      await call(api.api.v1.roles({ id: r.id }).delete());
      toast("success", `Role ${r.name} deleted.`);
      refetch();
    } catch (err) {
      toast("error", errorMessage(err));
    }
  };

  return (
    <section class="card section" aria-labelledby="roles-title" data-testid="roles-section">
      <div class="section-head">
        <div>
          <h2 id="roles-title">Roles</h2>
          <p class="muted">
            Besides owner, admin, technician and viewer: your own roles, each exactly the permissions ticked. You can only grant what you
            hold yourself.
          </p>
        </div>
      </div>
      <Show when={editing() ?? true} keyed>
        {(_key) => (
          <form class="role-form" onSubmit={save} data-testid="role-create">
            <div class="field">
              <label for="role-name">Name</label>
              <input id="role-name" name="name" placeholder="Helpdesk" maxLength={100} required value={editing()?.name ?? ""} />
            </div>
            <fieldset class="permission-grid">
              <legend>Permissions</legend>
              <For each={catalog.latest ?? []}>
                {(p) => (
                  <label class="permission-choice" title={p.description}>
                    <input
                      type="checkbox"
                      name="permission"
                      value={p.name}
                      disabled={!can(p.name)}
                      checked={editing()?.permissions.includes(p.name) ?? false}
                    />
                    <span>
                      <code>{p.name}</code> <span class="muted">{p.description}</span>
                    </span>
                  </label>
                )}
              </For>
            </fieldset>
            <div class="form-actions">
              <button class="btn btn-primary" type="submit" disabled={busy()}>
                {busy() ? "Saving…" : editing() ? `Save ${editing()?.name}` : "Create role"}
              </button>{" "}
              <Show when={editing()}>
                <button class="btn" type="button" onClick={() => setEditing(null)}>
                  Cancel
                </button>
              </Show>
            </div>
          </form>
        )}
      </Show>
      <ResourceList data={roles} retry={refetch} empty="No custom roles yet." skeleton={2}>
        {(list) => (
          <ul class="list" data-testid="role-list">
            <For each={list()}>
              {(r) => (
                <li data-testid="role-row">
                  <strong>{r.name}</strong>{" "}
                  <span class="muted">
                    {r.users} {r.users === 1 ? "user" : "users"}
                  </span>
                  <div class="tags">
                    <For each={r.permissions}>{(p) => <span class="tag">{p}</span>}</For>
                  </div>
                  <button type="button" class="btn btn-sm" data-testid="role-edit" onClick={() => setEditing(r)}>
                    Edit
                  </button>{" "}
                  <Show when={r.users === 0}>
                    <button type="button" class="btn btn-sm btn-danger" onClick={() => setRemoving(r)}>
                      Delete
                    </button>
                  </Show>
                </li>
              )}
            </For>
          </ul>
        )}
      </ResourceList>
      <ConfirmDialog
        open={removing() !== null}
        title={`Delete the role ${removing()?.name ?? ""}?`}
        message="Nobody holds it; it can be made again later."
        confirmLabel="Delete"
        danger
        onConfirm={() => {
          const r = removing();
          setRemoving(null);
          if (r) void remove(r);
        }}
        onClose={() => setRemoving(null)}
      />
    </section>
  );
}
