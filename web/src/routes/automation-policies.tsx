import { A } from "@solidjs/router";
import { For, Match, Show, Switch, createResource, createSignal } from "solid-js";
import { ConfirmDialog } from "../components/ConfirmDialog.tsx";
import { DevicePicker, type PickedDevice } from "../components/DevicePicker.tsx";
import { ResourceList } from "../components/ResourceList.tsx";
import { api, call, errorMessage } from "../lib/api.ts";
import { text } from "../lib/automation.ts";
import { clientsOf, createGroups, createSites, siteLabel } from "../lib/fleet.ts";
import { can } from "../lib/session.ts";
import { toast } from "../lib/toast.ts";
import type { Policy, PolicyBlock, PolicyDetail } from "../lib/types.ts";

type TargetType = "organization" | "group" | "client" | "site" | "device";
const TARGET_LABEL: Record<TargetType, string> = {
  organization: "Whole organization",
  group: "Smart group",
  client: "Client",
  site: "Site",
  device: "Device",
};

/** The target menus: groups, clients and sites of the organization, and a device found by hostname. */
function TargetFields(props: { types: TargetType[]; prefix: string; onDevice: (d: PickedDevice | null) => void }) {
  const sites = createSites();
  const groups = createGroups();
  const [type, setType] = createSignal<TargetType>(props.types[0] ?? "client");
  const [device, setDevice] = createSignal<PickedDevice[]>([]);
  const clients = () => clientsOf(sites.data());
  return (
    <>
      <div class="field">
        <label for={`${props.prefix}-type`}>Where</label>
        <select id={`${props.prefix}-type`} name="targetType" value={type()} onChange={(e) => setType(e.currentTarget.value as TargetType)}>
          <For each={props.types}>{(t) => <option value={t}>{TARGET_LABEL[t]}</option>}</For>
        </select>
      </div>
      <Switch>
        <Match when={type() === "group"}>
          <div class="field grow">
            <label for={`${props.prefix}-target`}>Group</label>
            <select id={`${props.prefix}-target`} name="targetId">
              <For each={groups.data() ?? []}>{(g) => <option value={g.id}>{g.name}</option>}</For>
            </select>
          </div>
        </Match>
        <Match when={type() === "client"}>
          <div class="field grow">
            <label for={`${props.prefix}-target`}>Client</label>
            <select id={`${props.prefix}-target`} name="targetId">
              <For each={clients()}>{(c) => <option value={c.id}>{c.name}</option>}</For>
            </select>
          </div>
        </Match>
        <Match when={type() === "site"}>
          <div class="field grow">
            <label for={`${props.prefix}-target`}>Site</label>
            <select id={`${props.prefix}-target`} name="targetId">
              <For each={sites.data() ?? []}>{(s) => <option value={s.id}>{siteLabel(s)}</option>}</For>
            </select>
          </div>
        </Match>
        <Match when={type() === "device"}>
          <div class="field grow">
            <label for={`${props.prefix}-device`}>Device</label>
            <DevicePicker
              id={`${props.prefix}-device`}
              picked={device()}
              onChange={(p) => {
                const one = p.slice(-1);
                setDevice(one);
                props.onDevice(one[0] ?? null);
              }}
              onError={(m) => toast("error", m)}
            />
          </div>
        </Match>
      </Switch>
    </>
  );
}

/** One policy: what it holds, where it is attached (enforced or not), enable, delete. */
function PolicyPanel(props: { id: string; onChanged: () => void; onDeleted: () => void }) {
  const [detail, { refetch }] = createResource(
    () => props.id,
    (id) => call(api.api.v1.policies({ id }).get()),
  );
  const [device, setDevice] = createSignal<PickedDevice | null>(null);
  const [removing, setRemoving] = createSignal(false);
  const manage = () => can("policy:manage");
  const changed = () => {
    refetch();
    props.onChanged();
  };

  const attach = async (e: SubmitEvent) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const type = text(f, "targetType") as TargetType;
    const id = type === "device" ? device()?.id : text(f, "targetId");
    if (type !== "organization" && !id) return toast("error", `Pick a ${TARGET_LABEL[type].toLowerCase()} first.`);
    const target = type === "organization" ? { type } : { type, id: id as string };
    try {
      await call(api.api.v1.policies({ id: props.id }).assignments.post({ target, enforced: f.get("enforced") === "on" }));
      toast("success", "Policy attached.");
      changed();
    } catch (err) {
      toast("error", errorMessage(err));
    }
  };
  const setEnforced = async (assignmentId: string, enforced: boolean) => {
    try {
      await call(api.api.v1.policies({ id: props.id }).assignments({ assignmentId }).put({ enforced }));
      changed();
    } catch (err) {
      toast("error", errorMessage(err));
    }
  };
  const detach = async (assignmentId: string) => {
    try {
      await call(api.api.v1.policies({ id: props.id }).assignments({ assignmentId }).delete());
      changed();
    } catch (err) {
      toast("error", errorMessage(err));
    }
  };
  const toggle = async (d: PolicyDetail) => {
    try {
      await call(api.api.v1.policies({ id: props.id }).put({ name: d.policy.name, enabled: !d.policy.enabled }));
      changed();
    } catch (err) {
      toast("error", errorMessage(err));
    }
  };
  const remove = async () => {
    setRemoving(false);
    try {
      await call(api.api.v1.policies({ id: props.id }).delete());
      toast("success", "Policy deleted with its rules and schedules.");
      props.onDeleted();
    } catch (err) {
      toast("error", errorMessage(err));
    }
  };

  return (
    <Show when={detail()}>
      {(d) => (
        <section class="card section policy-detail" aria-label={`Policy ${d().policy.name}`} data-testid="policy-detail">
          <div class="section-head">
            <div>
              <h2>{d().policy.name}</h2>
              <Show when={d().policy.description}>
                <p class="muted">{d().policy.description}</p>
              </Show>
            </div>
            <Show when={manage()}>
              <div class="row-actions">
                <button type="button" class="btn btn-sm" onClick={() => toggle(d())}>
                  {d().policy.enabled ? "Disable" : "Enable"}
                </button>
                <button type="button" class="btn btn-sm btn-danger" onClick={() => setRemoving(true)}>
                  Delete
                </button>
              </div>
            </Show>
          </div>
          <Show when={!d().policy.enabled}>
            <p class="pill">disabled: applies nowhere</p>
          </Show>
          <div class="policy-columns">
            <div>
              <h3>Holds</h3>
              <ul class="policy-items" data-testid="policy-rules">
                <For each={d().rules} fallback={<li class="muted">No alert rule or check yet.</li>}>
                  {(r) => (
                    <li>
                      <span class="pill">{r.metric === "script_exit_code" ? "check" : "rule"}</span> {r.name}{" "}
                      <span class="muted">
                        {r.metric} · {r.severity}
                        {r.enabled ? "" : " · disabled"}
                      </span>
                    </li>
                  )}
                </For>
                <For each={d().schedules}>
                  {(x) => (
                    <li>
                      <span class="pill">schedule</span> {x.name} <span class="muted mono">{x.cron ?? "once"}</span>
                    </li>
                  )}
                </For>
              </ul>
              <p class="policy-links">
                <Show when={can("alert:configure")}>
                  <A class="btn btn-sm" href={`/automation?tab=rules&policy=${props.id}`}>
                    Add a rule or check
                  </A>
                </Show>
                <Show when={can("schedule:manage")}>
                  <A class="btn btn-sm" href={`/automation?tab=schedules&policy=${props.id}`}>
                    Add a schedule
                  </A>
                </Show>
              </p>
            </div>
            <div>
              <h3>Attached to</h3>
              <ul class="policy-items" data-testid="policy-assignments">
                <For each={d().assignments} fallback={<li class="muted">Not attached: it applies nowhere yet.</li>}>
                  {(a) => (
                    <li>
                      <span class="pill">{a.target.type}</span> {a.target.name}
                      <Show when={manage()} fallback={a.enforced ? <span class="pill">enforced</span> : null}>
                        <label class="inline-check">
                          <input type="checkbox" checked={a.enforced} onChange={(e) => setEnforced(a.id, e.currentTarget.checked)} />{" "}
                          enforced
                        </label>
                        <button type="button" class="btn btn-sm" onClick={() => detach(a.id)} aria-label={`Detach from ${a.target.name}`}>
                          Detach
                        </button>
                      </Show>
                    </li>
                  )}
                </For>
              </ul>
              <Show when={manage()}>
                <form class="auto-form" onSubmit={attach} data-testid="policy-attach">
                  <TargetFields types={["organization", "group", "client", "site", "device"]} prefix="pa" onDevice={setDevice} />
                  <label class="inline-check">
                    <input type="checkbox" name="enforced" /> enforced
                  </label>
                  <button type="submit" class="btn btn-primary btn-sm">
                    Attach
                  </button>
                </form>
                <p class="hint">
                  Policies flow down: organization, then smart groups, clients, sites and devices. A block below stops them unless the
                  attachment is enforced.
                </p>
              </Show>
            </div>
          </div>
          <ConfirmDialog
            open={removing()}
            title="Delete this policy?"
            message={`"${d().policy.name}" and the ${d().rules.length} rule(s) and ${d().schedules.length} schedule(s) it holds will be deleted.`}
            confirmLabel="Delete policy"
            danger
            onConfirm={remove}
            onClose={() => setRemoving(false)}
          />
        </section>
      )}
    </Show>
  );
}

/** Where inheritance stops: clients, sites and devices that do not take policies from above. */
function Blocks() {
  const [blocks, { refetch }] = createResource(() => call(api.api.v1["policy-blocks"].get()).then((r) => r.items));
  const [device, setDevice] = createSignal<PickedDevice | null>(null);
  const add = async (e: SubmitEvent) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const type = text(f, "targetType") as "client" | "site" | "device";
    const id = type === "device" ? device()?.id : text(f, "targetId");
    if (!id) return toast("error", `Pick a ${type} first.`);
    try {
      await call(api.api.v1["policy-blocks"].post({ target: { type, id } }));
      toast("success", "Inheritance blocked.");
      refetch();
    } catch (err) {
      toast("error", errorMessage(err));
    }
  };
  const lift = async (b: PolicyBlock) => {
    try {
      await call(api.api.v1["policy-blocks"]({ id: b.id }).delete());
      refetch();
    } catch (err) {
      toast("error", errorMessage(err));
    }
  };
  return (
    <section class="card section" aria-labelledby="blocks-title">
      <h2 id="blocks-title">Inheritance blocks</h2>
      <p class="muted">A client, site or device listed here keeps only the policies attached to it or below it, and enforced ones.</p>
      <ResourceList data={blocks} retry={refetch} empty="Nothing blocks inheritance.">
        {(list) => (
          <ul class="policy-items" data-testid="policy-blocks">
            <For each={list()}>
              {(b) => (
                <li>
                  <span class="pill">{b.target.type}</span> {b.target.name}
                  <Show when={can("policy:manage")}>
                    <button type="button" class="btn btn-sm" onClick={() => lift(b)}>
                      Inherit again
                    </button>
                  </Show>
                </li>
              )}
            </For>
          </ul>
        )}
      </ResourceList>
      <Show when={can("policy:manage")}>
        <form class="auto-form" onSubmit={add} data-testid="policy-block-form">
          <TargetFields types={["site", "client", "device"]} prefix="pb" onDevice={setDevice} />
          <button type="submit" class="btn btn-sm">
            Block inheritance
          </button>
        </form>
      </Show>
    </section>
  );
}

/** Policies: bundles of rules, checks and schedules attached where they should apply. */
export function PoliciesTab() {
  const [policies, { refetch }] = createResource(() => call(api.api.v1.policies.get()).then((r) => r.items));
  const [selected, setSelected] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);
  const create = async (e: SubmitEvent) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const name = text(f, "name").trim();
    if (!name) return toast("error", "Give the policy a name.");
    setBusy(true);
    try {
      const p = await call(api.api.v1.policies.post({ name, description: text(f, "description").trim() }));
      form.reset();
      refetch();
      setSelected(p.id);
    } catch (err) {
      toast("error", errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="policies">
      <Show when={can("policy:manage")}>
        <form class="card section auto-form" onSubmit={create} data-testid="policy-create">
          <div class="field">
            <label for="policy-name">New policy</label>
            <input id="policy-name" name="name" maxLength={200} placeholder="Servers: baseline" />
          </div>
          <div class="field grow">
            <label for="policy-description">Description</label>
            <input id="policy-description" name="description" maxLength={2000} placeholder="What it is for" />
          </div>
          <button type="submit" class="btn btn-primary" disabled={busy()}>
            Create policy
          </button>
        </form>
      </Show>
      <section class="card" aria-label="Policies">
        <ResourceList
          data={policies}
          retry={refetch}
          empty="No policies yet. A policy bundles rules, checks and schedules and applies them where it is attached."
        >
          {(list) => (
            <div class="table-wrap">
              <table class="table">
                <thead>
                  <tr>
                    <th scope="col">Policy</th>
                    <th scope="col">Holds</th>
                    <th scope="col">Attached</th>
                    <th scope="col">State</th>
                  </tr>
                </thead>
                <tbody>
                  <For each={list()}>
                    {(p: Policy) => (
                      <tr data-testid="policy-row" aria-selected={selected() === p.id}>
                        <td>
                          <button class="link-button" type="button" onClick={() => setSelected(p.id)}>
                            {p.name}
                          </button>
                          <Show when={p.description}>
                            <div class="muted">{p.description}</div>
                          </Show>
                        </td>
                        <td>
                          {p.ruleCount} rule(s), {p.scheduleCount} schedule(s)
                        </td>
                        <td>{p.assignmentCount === 0 ? <span class="muted">nowhere</span> : `${p.assignmentCount} place(s)`}</td>
                        <td>{p.enabled ? "enabled" : <span class="pill">disabled</span>}</td>
                      </tr>
                    )}
                  </For>
                </tbody>
              </table>
            </div>
          )}
        </ResourceList>
      </section>
      <Show when={selected()} keyed>
        {(id) => (
          <PolicyPanel
            id={id}
            onChanged={refetch}
            onDeleted={() => {
              setSelected(null);
              refetch();
            }}
          />
        )}
      </Show>
      <Blocks />
    </div>
  );
}
