import { A } from "@solidjs/router";
import { For, Match, Show, Switch, createResource, createSignal } from "solid-js";
import { ConfirmDialog } from "../components/ConfirmDialog.tsx";
import { ErrorNote } from "../components/ErrorNote.tsx";
import { SkeletonLines } from "../components/Skeleton.tsx";
import { ApiError, api, call, errorMessage } from "../lib/api.ts";
import { dateTime } from "../lib/format.ts";
import { can } from "../lib/session.ts";
import { toast } from "../lib/toast.ts";
import "./groups.css";

const EXAMPLES = [
  'os = "linux" and tag.role = "server" and cpu > 80',
  'os = "windows" and os_version ~ "Server 2019"',
  'not (status = "offline") or hostname ~ "^db-"',
];

/** The server's rejection of an expression, with the 0-based position it names. */
interface ExpressionProblem {
  message: string;
  position: number;
  expression: string;
}

/** The expression with a caret under the character the server named. */
function Caret(props: { problem: ExpressionProblem }) {
  return (
    <div class="group-problem" role="alert" data-testid="group-expression-error">
      <p>{props.problem.message}</p>
      <div class="group-caret mono" aria-hidden="true">
        <div>{props.problem.expression}</div>
        <div>{`${" ".repeat(Math.min(props.problem.position, props.problem.expression.length))}^`}</div>
      </div>
    </div>
  );
}

/** One group's members now and its recent joins and leaves. */
function GroupDetail(props: { id: string; name: string }) {
  const [members] = createResource(
    () => props.id,
    (id) => call(api.api.v1.groups({ id }).devices.get({ query: { limit: 50 } })),
  );
  const [history] = createResource(
    () => props.id,
    (id) => call(api.api.v1.groups({ id }).history.get({ query: { limit: 20 } })).then((r) => r.items),
  );
  /** Tags added to or removed from every member now (key=value replaces the key's value). */
  const retag = async (e: SubmitEvent) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const tag = String(data.get("tag") ?? "").trim();
    const remove = (e.submitter as HTMLButtonElement | null)?.value === "remove";
    if (!tag) return toast("error", "Enter a tag such as owner=ops.");
    try {
      const r = await call(
        api.api.v1.devices["bulk-tags"].post({ target: { groupId: props.id }, ...(remove ? { remove: [tag] } : { add: [tag] }) }),
      );
      toast(
        "success",
        `${remove ? "Removed" : "Added"} ${tag} on ${r.changed} of ${r.matched} member(s)${r.skipped ? `; ${r.skipped} already have 32 tags` : ""}.`,
      );
      form.reset();
    } catch (err) {
      toast("error", errorMessage(err));
    }
  };
  return (
    <section class="card section group-detail" aria-label={`Group ${props.name}`} data-testid="group-detail">
      <div class="section-head">
        <h2>{props.name}</h2>
        <A class="btn btn-sm" href={`/devices?groupId=${props.id}`}>
          Open in the device list
        </A>
      </div>
      <Show when={can("device:manage")}>
        <form class="group-retag" onSubmit={retag} data-testid="group-retag">
          <label for="group-tag">Tag every member</label>
          <input id="group-tag" name="tag" class="mono" placeholder="owner=ops" maxLength={128} />
          <button type="submit" class="btn btn-sm" value="add">
            Add tag
          </button>
          <button type="submit" class="btn btn-sm" value="remove">
            Remove tag
          </button>
        </form>
      </Show>
      <div class="group-columns">
        <div>
          <h3>Members {members.latest ? `(${members.latest.total})` : ""}</h3>
          <Show when={members.latest} fallback={<SkeletonLines count={2} />}>
            {(page) => (
              <Show when={page().items.length > 0} fallback={<p class="muted">No device matches now.</p>}>
                <ul class="group-members">
                  <For each={page().items}>
                    {(d) => (
                      <li data-testid="group-member">
                        <A href={`/devices/${d.id}`}>{d.hostname}</A> <span class="muted">{d.osName}</span>
                      </li>
                    )}
                  </For>
                </ul>
              </Show>
            )}
          </Show>
        </div>
        <div>
          <h3>Recent changes</h3>
          <Show when={history.latest} fallback={<SkeletonLines count={2} />}>
            {(items) => (
              <Show when={items().length > 0} fallback={<p class="muted">No device has joined or left yet.</p>}>
                <ul class="group-history">
                  <For each={items()}>
                    {(h) => (
                      <li>
                        <span class={`pill ${h.event === "joined" ? "pill-ok" : ""}`}>{h.event}</span> {h.hostname ?? "deleted device"}{" "}
                        <span class="muted">{dateTime(h.at)}</span>
                      </li>
                    )}
                  </For>
                </ul>
              </Show>
            )}
          </Show>
        </div>
      </div>
    </section>
  );
}

/**
 * Smart groups: named boolean expressions over facts, tags, place, status and latest telemetry; the
 * server keeps their members current. A rejected expression is shown with a caret at the position
 * the server names.
 */
export default function Groups() {
  document.title = "Groups · SENTpulse";
  const [groups, { refetch }] = createResource(() => call(api.api.v1.groups.get()).then((r) => r.items));
  const [problem, setProblem] = createSignal<ExpressionProblem | null>(null);
  const [selected, setSelected] = createSignal<{ id: string; name: string } | null>(null);
  const [removing, setRemoving] = createSignal<{ id: string; name: string } | null>(null);
  /** The group whose name and expression the form edits (a new object remounts the form), or null to create. */
  const [form, setForm] = createSignal<{ group: { id: string; name: string; expression: string } | null }>({ group: null });
  const editing = () => form().group;
  const canEdit = () => can("device:manage");

  const create = async (e: SubmitEvent) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    const name = String(data.get("name") ?? "").trim();
    const expression = String(data.get("expression") ?? "");
    setProblem(null);
    try {
      const current = editing();
      if (current) await call(api.api.v1.groups({ id: current.id }).put({ name, expression }));
      const id = current ? current.id : (await call(api.api.v1.groups.post({ name, expression }))).id;
      toast(
        "success",
        current ? `Group ${name} saved; its members are worked out again.` : `Group ${name} created; its members are being worked out.`,
      );
      setForm({ group: null });
      setSelected({ id, name });
      setTimeout(refetch, 500);
      refetch();
    } catch (err) {
      if (err instanceof ApiError && err.code === "INVALID_EXPRESSION" && typeof err.details.position === "number")
        setProblem({ message: err.message, position: err.details.position, expression });
      else toast("error", errorMessage(err));
    }
  };
  const remove = async (g: { id: string; name: string }) => {
    try {
      await call(api.api.v1.groups({ id: g.id }).delete());
      toast("success", `Group ${g.name} deleted.`);
      if (selected()?.id === g.id) setSelected(null);
      refetch();
    } catch (err) {
      toast("error", errorMessage(err));
    }
  };

  return (
    <div class="groups-page">
      <div class="page-head">
        <div>
          <h1>Smart groups</h1>
          <p>Devices matching an expression, kept current as facts, tags, status and telemetry change.</p>
        </div>
      </div>
      <Show when={canEdit() && form()} keyed>
        {(_key) => (
          <form class="card section group-form" onSubmit={create} data-testid="group-create">
            <Show when={editing()}>{(g) => <h2>Edit group {g().name}</h2>}</Show>
            <div class="field">
              <label for="group-name">Name</label>
              <input id="group-name" name="name" maxLength={200} required value={editing()?.name ?? ""} />
            </div>
            <div class="field">
              <label for="group-expression">Expression</label>
              <textarea
                id="group-expression"
                name="expression"
                class="mono"
                rows={2}
                maxLength={2000}
                required
                placeholder={EXAMPLES[0]}
                value={editing()?.expression ?? ""}
              />
              <p class="hint">
                Fields: os, os_version, os_name, arch, hostname, cpu_model, memory_gb, cpu_cores, agent_version, status, site, client,
                tag.&lt;key&gt;, cpu, memory, disk, load1, patch.critical_missing, patch.security_missing. Operators: = != &lt; &lt;= &gt;
                &gt;= and ~ (contains; ^ and $ anchor), with and, or, not, parentheses and <span class="mono">has tag.&lt;key&gt;</span>.
                Examples: <For each={EXAMPLES}>{(x) => <code>{x}</code>}</For>
              </p>
            </div>
            <Show when={problem()}>{(p) => <Caret problem={p()} />}</Show>
            <div class="row-actions-start">
              <button class="btn btn-primary" type="submit">
                {editing() ? "Save group" : "Create group"}
              </button>
              <Show when={editing()}>
                <button
                  class="btn"
                  type="button"
                  onClick={() => {
                    setProblem(null);
                    setForm({ group: null });
                  }}
                >
                  Cancel
                </button>
              </Show>
            </div>
          </form>
        )}
      </Show>
      <section class="card" aria-label="Groups">
        <Switch>
          <Match when={groups.error}>
            <ErrorNote message={errorMessage(groups.error)} onRetry={refetch} />
          </Match>
          <Match when={groups.loading && !groups.latest}>
            <SkeletonLines count={3} />
          </Match>
          <Match when={groups.latest?.length === 0}>
            <p class="section muted">No smart groups yet.</p>
          </Match>
          <Match when={groups.latest}>
            {(list) => (
              <div class="table-wrap">
                <table class="table">
                  <thead>
                    <tr>
                      <th>Name</th>
                      <th>Expression</th>
                      <th>Members</th>
                      <th />
                    </tr>
                  </thead>
                  <tbody>
                    <For each={list()}>
                      {(g) => (
                        <tr data-testid="group-row">
                          <td>
                            <button class="link-button" type="button" onClick={() => setSelected({ id: g.id, name: g.name })}>
                              {g.name}
                            </button>
                          </td>
                          <td class="mono">{g.expression}</td>
                          <td data-testid="group-count">{g.memberCount}</td>
                          <td>
                            <Show when={canEdit()}>
                              <button
                                class="btn btn-sm"
                                type="button"
                                onClick={() => {
                                  setProblem(null);
                                  setForm({ group: { id: g.id, name: g.name, expression: g.expression } });
                                  window.scrollTo({ top: 0 });
                                }}
                              >
                                Edit
                              </button>{" "}
                              <button class="btn btn-sm btn-danger" type="button" onClick={() => setRemoving({ id: g.id, name: g.name })}>
                                Delete
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
      </section>
      <Show when={selected()} keyed>
        {(g) => <GroupDetail id={g.id} name={g.name} />}
      </Show>
      <ConfirmDialog
        open={!!removing()}
        title={`Delete group ${removing()?.name ?? ""}?`}
        message="Its membership history goes with it. Devices are not touched."
        confirmLabel="Delete"
        danger
        onConfirm={() => {
          const g = removing();
          if (g) void remove(g);
          setRemoving(null);
        }}
        onClose={() => setRemoving(null)}
      />
    </div>
  );
}
