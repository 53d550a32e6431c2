import { For, Match, Show, Switch, createResource, createSignal } from "solid-js";
import * as v from "valibot";
import { ConfirmDialog } from "../components/ConfirmDialog.tsx";
import { ErrorNote } from "../components/ErrorNote.tsx";
import { RelativeTime } from "../components/RelativeTime.tsx";
import { SkeletonLines } from "../components/Skeleton.tsx";
import { ApiError, api, call, errorMessage } from "../lib/api.ts";
import { fieldErrors } from "../lib/forms.ts";
import { ROLE_LABEL, grantableRoles, roleAtLeast } from "../lib/roles.ts";
import { can, principal } from "../lib/session.ts";
import { toast } from "../lib/toast.ts";
import type { Role, User } from "../lib/types.ts";

/** The new-user form; the roles offered are the ones the signed-in user may grant (custom ones as `custom:<id>`). */
const userForm = (roles: string[]) =>
  v.pipe(
    v.object({
      email: v.pipe(
        v.string(),
        v.trim(),
        v.nonEmpty("Enter the email address they will sign in with."),
        v.email("Enter a valid email address."),
        v.maxLength(320, "At most 320 characters."),
      ),
      name: v.pipe(v.string(), v.trim(), v.maxLength(200, "At most 200 characters.")),
      role: v.picklist(roles, "Pick a role you may grant."),
      password: v.pipe(v.string(), v.minLength(10, "At least 10 characters."), v.maxLength(1024, "At most 1,024 characters.")),
      confirm: v.string(),
    }),
    v.forward(
      v.partialCheck([["password"], ["confirm"]], (i) => i.password === i.confirm, "The passwords do not match."),
      ["confirm"],
    ),
  );

const ROLE_HINT: Record<Role, string> = {
  readonly: "Sees devices and alerts.",
  technician: "Also acknowledges alerts and works on devices.",
  admin: "Also manages users, API keys and enrollment.",
  owner: "Everything, including other owners.",
};

/** Users of the organization: only admins and owners manage them; everyone else gets a short note. */
export function Users() {
  const me = principal;
  return (
    <section class="card section" aria-labelledby="users-title">
      <div class="section-head">
        <div>
          <h2 id="users-title">Users</h2>
          <p class="muted">People who sign in to this dashboard, and what their role lets them do.</p>
        </div>
      </div>
      <Switch>
        <Match when={me() === undefined}>
          <SkeletonLines count={3} />
        </Match>
        <Match when={can("users:manage")}>
          <UserAdmin />
        </Match>
        <Match when={me()}>
          {(p) => (
            <p class="muted" data-testid="users-note">
              You are signed in as {ROLE_LABEL[p().role].toLowerCase()}. Only admins and owners can see and manage users; ask one of them to
              invite a colleague or change a role.
            </p>
          )}
        </Match>
      </Switch>
    </section>
  );
}

/** List, create, change role, disable and enable. The server enforces the same rules; its messages are shown as they come. */
function UserAdmin() {
  const myRole = () => principal()?.role;
  const myId = () => principal()?.id;
  const roles = () => grantableRoles(myRole());
  const [custom] = createResource(() => call(api.api.v1.roles.get()).then((r) => r.items));
  const [clients] = createResource(() => call(api.api.v1.clients.get()).then((r) => r.items));
  const [groups] = createResource(() => call(api.api.v1.groups.get()).then((r) => r.items));
  /** The clients and smart groups a user is limited to, by name ("" for the whole organization). */
  const reachNames = (u: User) =>
    [
      ...(u.clientIds ?? []).map((id) => clients.latest?.find((c) => c.id === id)?.name ?? "a client"),
      ...(u.groupIds ?? []).map((id) => `group ${groups.latest?.find((g) => g.id === id)?.name ?? "(deleted)"}`),
    ].join(", ");
  const customName = (id: string | null) => custom.latest?.find((r) => r.id === id)?.name ?? "custom role";
  /** A user's role as shown: the custom role's name, else the built-in's label. */
  const roleLabel = (u: User) => (u.roleId ? customName(u.roleId) : ROLE_LABEL[u.role]);
  const [users, { refetch, mutate }] = createResource(() => call(api.api.v1.users.get()).then((r) => r.items));
  const [errors, setErrors] = createSignal<Record<string, string>>({});
  const [serverError, setServerError] = createSignal("");
  const [busy, setBusy] = createSignal(false);
  const [pending, setPending] = createSignal<string | null>(null);
  const [toggling, setToggling] = createSignal<User | null>(null);

  /** Whether the signed-in user may change `u`: not themselves, and not someone above them. */
  const editable = (u: User) => u.id !== myId() && roleAtLeast(myRole(), u.role);
  const replace = (u: User) => mutate((list) => list?.map((x) => (x.id === u.id ? u : x)));

  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    const formEl = e.currentTarget as HTMLFormElement;
    const form = new FormData(formEl);
    const field = (k: string) => String(form.get(k) ?? "");
    const parsed = v.safeParse(userForm([...roles(), ...(custom.latest ?? []).map((r) => `custom:${r.id}`)]), {
      email: field("email"),
      name: field("name"),
      role: field("role"),
      password: field("password"),
      confirm: field("confirm"),
    });
    setServerError("");
    if (!parsed.success) {
      setErrors(fieldErrors(parsed.issues));
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      const { email, name, role, password } = parsed.output;
      const given = role.startsWith("custom:") ? { roleId: role.slice(7) } : { role: role as Role };
      const clientIds = form.getAll("clientIds").map(String);
      const groupIds = form.getAll("groupIds").map(String);
      const user = await call(
        api.api.v1.users.post({
          email,
          ...given,
          password,
          ...(name ? { name } : {}),
          ...(clientIds.length ? { clientIds } : {}),
          ...(groupIds.length ? { groupIds } : {}),
        }),
      );
      formEl.reset();
      // reset() picks the first role (Solid sets `selected` as a property): back to the usual default.
      if (roles().includes("technician")) (formEl.elements.namedItem("role") as HTMLSelectElement).value = "technician";
      mutate((list) => [...(list ?? []), user].sort((a, b) => a.email.toLowerCase().localeCompare(b.email.toLowerCase())));
      toast("success", `${user.email} can now sign in as ${roleLabel(user).toLowerCase()}.`);
    } catch (err) {
      // The server's 409 says only that the row exists; name what exists.
      setServerError(err instanceof ApiError && err.status === 409 ? `${parsed.output.email} already has an account.` : errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const change = async (
    u: User,
    body: { role?: Role; roleId?: string; disabled?: boolean; clientIds?: string[] | null; groupIds?: string[] | null },
    done: string,
    select?: HTMLSelectElement,
  ) => {
    setPending(u.id);
    try {
      const updated = (await call(api.api.v1.users({ id: u.id }).patch(body))) as User | undefined;
      if (updated) replace(updated);
      else refetch();
      toast("success", done);
    } catch (err) {
      if (select) select.value = u.roleId ? `custom:${u.roleId}` : u.role;
      toast("error", errorMessage(err));
    } finally {
      setPending(null);
    }
  };

  const err = (k: string) => errors()[k];
  const invalid = (k: string) => ({ "aria-invalid": !!err(k), "aria-describedby": err(k) ? `u-${k}-err` : undefined });
  const fieldError = (k: string) => (
    <Show when={err(k)}>
      <span class="field-error" id={`u-${k}-err`}>
        {err(k)}
      </span>
    </Show>
  );

  return (
    <>
      <form class="inline-form user-form" onSubmit={submit} novalidate aria-label="Add a user">
        <div class="field grow">
          <label for="u-email">Email</label>
          <input
            id="u-email"
            name="email"
            type="email"
            autocomplete="off"
            placeholder="sam@example.com"
            data-testid="user-email"
            {...invalid("email")}
          />
          {fieldError("email")}
        </div>
        <div class="field">
          <label for="u-name">Name</label>
          <input id="u-name" name="name" autocomplete="off" placeholder="Optional" {...invalid("name")} />
          {fieldError("name")}
        </div>
        <div class="field">
          <label for="u-role">Role</label>
          <select id="u-role" name="role" data-testid="user-role" {...invalid("role")}>
            <For each={roles()}>
              {(r) => (
                <option value={r} selected={r === "technician"}>
                  {ROLE_LABEL[r]}
                </option>
              )}
            </For>
            <For each={custom.latest ?? []}>{(r) => <option value={`custom:${r.id}`}>{r.name}</option>}</For>
          </select>
          {fieldError("role")}
        </div>
        <div class="field">
          <label for="u-clients">Clients</label>
          <select id="u-clients" name="clientIds" multiple size={2} data-testid="user-clients" aria-describedby="u-clients-hint">
            <For each={clients.latest ?? []}>{(c) => <option value={c.id}>{c.name}</option>}</For>
          </select>
          <span class="hint" id="u-clients-hint">
            None chosen (and no group): the whole organization.
          </span>
        </div>
        <div class="field">
          <label for="u-groups">Smart groups</label>
          <select id="u-groups" name="groupIds" multiple size={2} data-testid="user-groups" aria-describedby="u-groups-hint">
            <For each={groups.latest ?? []}>{(g) => <option value={g.id}>{g.name}</option>}</For>
          </select>
          <span class="hint" id="u-groups-hint">
            Also reaches the groups' current members.
          </span>
        </div>
        <div class="field">
          <label for="u-password">Password</label>
          <input
            id="u-password"
            name="password"
            type="password"
            autocomplete="new-password"
            data-testid="user-password"
            {...invalid("password")}
            aria-describedby={err("password") ? "u-password-err" : "u-password-hint"}
          />
          <Show
            when={err("password")}
            fallback={
              <span class="hint" id="u-password-hint">
                At least 10 characters.
              </span>
            }
          >
            {fieldError("password")}
          </Show>
        </div>
        <div class="field">
          <label for="u-confirm">Confirm password</label>
          <input
            id="u-confirm"
            name="confirm"
            type="password"
            autocomplete="new-password"
            data-testid="user-password-confirm"
            {...invalid("confirm")}
          />
          {fieldError("confirm")}
        </div>
        <button type="submit" class="btn btn-primary" disabled={busy()} data-testid="user-create">
          {busy() ? "Adding…" : "Add user"}
        </button>
      </form>
      <Show when={serverError()}>
        <div class="error-note form-error" role="alert" data-testid="user-error">
          {serverError()}
        </div>
      </Show>
      <Switch>
        <Match when={users.error}>
          <ErrorNote message={errorMessage(users.error)} onRetry={refetch} />
        </Match>
        <Match when={users.loading && !users.latest}>
          <SkeletonLines count={3} />
        </Match>
        <Match when={users.latest}>
          {(list) => (
            <div class="table-wrap">
              <table class="table users-table">
                <thead>
                  <tr>
                    <th scope="col">Email</th>
                    <th scope="col">Name</th>
                    <th scope="col">Role</th>
                    <th scope="col">Last sign-in</th>
                    <th scope="col">Status</th>
                    <th scope="col">
                      <span class="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  <For each={list()}>
                    {(u) => (
                      <tr
                        data-testid="user-row"
                        data-email={u.email}
                        data-disabled={u.disabledAt ? "true" : "false"}
                        classList={{ revoked: !!u.disabledAt }}
                      >
                        <td>
                          {u.email}
                          <Show when={u.id === myId()}>
                            {" "}
                            <span class="pill">you</span>
                          </Show>
                        </td>
                        <td>
                          {u.name || <span class="muted">—</span>}
                          <Show when={u.clientIds || u.groupIds}>
                            {" "}
                            <span class="pill" data-testid="user-clients-pill" title="Limited to these clients and smart groups">
                              {reachNames(u)}
                            </span>
                          </Show>
                        </td>
                        <td>
                          <Show
                            when={editable(u)}
                            fallback={
                              <span title={u.id === myId() ? "You cannot change your own role" : "Only an owner can change an owner"}>
                                {roleLabel(u)}
                              </span>
                            }
                          >
                            <select
                              class="role-select"
                              aria-label={`Role of ${u.email}`}
                              title={u.roleId ? "A custom role (Settings → Roles)" : ROLE_HINT[u.role]}
                              data-testid="user-role-change"
                              disabled={pending() === u.id}
                              onChange={(e) => {
                                const value = e.currentTarget.value;
                                if (value.startsWith("custom:"))
                                  change(
                                    u,
                                    { roleId: value.slice(7) },
                                    `${u.email} now has the role ${customName(value.slice(7))}.`,
                                    e.currentTarget,
                                  );
                                else
                                  change(
                                    u,
                                    { role: value as Role },
                                    `${u.email} is now ${ROLE_LABEL[value as Role].toLowerCase()}.`,
                                    e.currentTarget,
                                  );
                              }}
                            >
                              <For each={roles()}>
                                {(r) => (
                                  <option value={r} selected={!u.roleId && r === u.role}>
                                    {ROLE_LABEL[r]}
                                  </option>
                                )}
                              </For>
                              <For each={custom.latest ?? []}>
                                {(r) => (
                                  <option value={`custom:${r.id}`} selected={u.roleId === r.id}>
                                    {r.name}
                                  </option>
                                )}
                              </For>
                            </select>
                          </Show>
                        </td>
                        <td>{u.lastLoginAt ? <RelativeTime value={u.lastLoginAt} /> : <span class="muted">never</span>}</td>
                        <td>
                          <span class={`pill ${u.disabledAt ? "" : "pill-ok"}`}>{u.disabledAt ? "disabled" : "active"}</span>
                        </td>
                        <td class="right">
                          <Show when={editable(u)}>
                            <details class="client-editor" data-testid="user-clients-edit">
                              <summary class="btn btn-sm">Reach</summary>
                              <form
                                onSubmit={(e) => {
                                  e.preventDefault();
                                  const el = e.currentTarget;
                                  const data = new FormData(el);
                                  const all = data.get("scope") === "all";
                                  const ids = data.getAll("client").map(String);
                                  const groupIds = data.getAll("group").map(String);
                                  if (!all && ids.length + groupIds.length === 0)
                                    return toast("error", "Tick at least one client or group, or choose the whole organization.");
                                  change(
                                    u,
                                    all
                                      ? { clientIds: null, groupIds: null }
                                      : { clientIds: ids.length ? ids : null, groupIds: groupIds.length ? groupIds : null },
                                    all
                                      ? `${u.email} reaches the whole organization.`
                                      : `${u.email} now reaches ${[
                                          ids.length ? `${ids.length} client(s)` : "",
                                          groupIds.length ? `${groupIds.length} smart group(s)` : "",
                                        ]
                                          .filter(Boolean)
                                          .join(" and ")}.`,
                                  );
                                  el.closest("details")?.removeAttribute("open");
                                }}
                              >
                                <label class="inline-check">
                                  <input type="radio" name="scope" value="all" checked={!u.clientIds && !u.groupIds} /> Whole organization
                                </label>
                                <label class="inline-check">
                                  <input type="radio" name="scope" value="some" checked={!!u.clientIds || !!u.groupIds} /> Only these
                                  clients and smart groups:
                                </label>
                                <For each={clients.latest ?? []}>
                                  {(c) => (
                                    <label class="inline-check client-choice">
                                      <input type="checkbox" name="client" value={c.id} checked={u.clientIds?.includes(c.id) ?? false} />{" "}
                                      {c.name}
                                    </label>
                                  )}
                                </For>
                                <For each={groups.latest ?? []}>
                                  {(g) => (
                                    <label class="inline-check client-choice" data-testid="user-group-choice">
                                      <input type="checkbox" name="group" value={g.id} checked={u.groupIds?.includes(g.id) ?? false} />{" "}
                                      group {g.name}
                                    </label>
                                  )}
                                </For>
                                <button type="submit" class="btn btn-sm btn-primary">
                                  Save
                                </button>
                              </form>
                            </details>{" "}
                            <button
                              type="button"
                              class={`btn btn-sm ${u.disabledAt ? "" : "btn-danger"}`}
                              data-testid="user-toggle"
                              disabled={pending() === u.id}
                              onClick={() => setToggling(u)}
                            >
                              {u.disabledAt ? "Enable" : "Disable"}
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
        </Match>
      </Switch>
      <p class="hint">
        {roles()
          .map((r) => `${ROLE_LABEL[r]}: ${ROLE_HINT[r]}`)
          .join(" ")}
      </p>
      <ConfirmDialog
        open={!!toggling()}
        title={toggling()?.disabledAt ? `Enable ${toggling()?.email ?? ""}?` : `Disable ${toggling()?.email ?? ""}?`}
        message={
          toggling()?.disabledAt
            ? "They can sign in again with their password, with the role they had."
            : "They are signed out everywhere now and cannot sign in until someone enables them again. Nothing they did is deleted."
        }
        confirmLabel={toggling()?.disabledAt ? "Enable user" : "Disable user"}
        danger={!toggling()?.disabledAt}
        onConfirm={() => {
          const u = toggling();
          if (u) change(u, { disabled: !u.disabledAt }, `${u.email} ${u.disabledAt ? "can sign in again" : "is disabled and signed out"}.`);
        }}
        onClose={() => setToggling(null)}
      />
    </>
  );
}
