import { For, Show, createEffect, createResource, createSignal } from "solid-js";
import { ConfirmDialog } from "../components/ConfirmDialog.tsx";
import { ErrorNote } from "../components/ErrorNote.tsx";
import { api, call, errorMessage } from "../lib/api.ts";
import { can } from "../lib/session.ts";
import { toast } from "../lib/toast.ts";
import { type Script, ScriptEditor } from "./script-editor.tsx";
import { ScriptRun } from "./script-run.tsx";
import "../components/commands.css";
import "./scripts.css";

/** The script library: list, create, edit, delete, and run on several devices. */
export default function Scripts() {
  const [scripts, { refetch }] = createResource(() => call(api.api.v1.scripts.get()).then((r) => r.items as Script[]));
  const [editing, setEditing] = createSignal<Script | "new" | null>(null);
  const [running, setRunning] = createSignal<Script | null>(null);
  const [deleting, setDeleting] = createSignal<Script | null>(null);
  const canEdit = () => can("script:manage");
  createEffect(() => {
    document.title = "Scripts · SENTpulse";
  });
  const remove = async () => {
    const s = deleting();
    if (!s) return;
    try {
      await call(api.api.v1.scripts({ id: s.id }).delete());
      toast("success", `Script "${s.name}" was deleted.`);
      refetch();
    } catch (e) {
      toast("error", errorMessage(e));
    }
  };
  return (
    <div class="scripts-page">
      <div class="page-head">
        <h1>Scripts</h1>
        <button
          type="button"
          class="btn btn-primary"
          data-testid="script-new"
          disabled={!canEdit()}
          onClick={() => {
            setRunning(null);
            setEditing("new");
          }}
        >
          New script
        </button>
      </div>
      <Show when={editing()}>
        {(e) => (
          <section class="card">
            <h2 class="section-head section">{e() === "new" ? "New script" : "Edit script"}</h2>
            <ScriptEditor
              script={e() === "new" ? null : (e() as Script)}
              onCancel={() => setEditing(null)}
              onSaved={() => {
                setEditing(null);
                refetch();
              }}
            />
          </section>
        )}
      </Show>
      <Show when={running()} keyed>
        {(s) => <ScriptRun script={s} onClose={() => setRunning(null)} />}
      </Show>
      <section class="card" aria-label="Script library">
        <Show when={scripts.error}>
          <div class="section">
            <ErrorNote message={errorMessage(scripts.error)} onRetry={refetch} />
          </div>
        </Show>
        <Show
          when={!scripts.error && scripts.latest?.length}
          fallback={<p class="section muted">{scripts.loading ? "Loading…" : "No scripts yet. Add one to run it on many devices."}</p>}
        >
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Language</th>
                  <th scope="col">Timeout</th>
                  <th scope="col">Tags</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                <For each={scripts.latest ?? []}>
                  {(s) => (
                    <tr data-testid="script-row">
                      <td>
                        <strong>{s.name}</strong>
                        <Show when={s.description}>
                          <div class="muted">{s.description}</div>
                        </Show>
                      </td>
                      <td>{s.language}</td>
                      <td>{s.timeoutSeconds} s</td>
                      <td>
                        <div class="tags">
                          <For each={s.tags}>{(t) => <span class="tag">{t}</span>}</For>
                        </div>
                      </td>
                      <td class="row-actions">
                        <button
                          type="button"
                          class="btn btn-sm"
                          data-testid="script-run"
                          disabled={!can("device:script")}
                          onClick={() => {
                            setEditing(null);
                            setRunning(s);
                          }}
                        >
                          Run on…
                        </button>
                        <button type="button" class="btn btn-sm" disabled={!canEdit()} onClick={() => setEditing(s)}>
                          Edit
                        </button>
                        <button type="button" class="btn btn-sm btn-danger" disabled={!canEdit()} onClick={() => setDeleting(s)}>
                          Delete
                        </button>
                      </td>
                    </tr>
                  )}
                </For>
              </tbody>
            </table>
          </div>
        </Show>
      </section>
      <ConfirmDialog
        open={deleting() !== null}
        title={`Delete ${deleting()?.name ?? "script"}?`}
        message="The script leaves the library. Commands that already ran keep their output."
        confirmLabel="Delete script"
        danger
        onConfirm={remove}
        onClose={() => setDeleting(null)}
      />
    </div>
  );
}
