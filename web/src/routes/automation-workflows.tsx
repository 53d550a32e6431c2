import { For, Match, Show, Switch, createResource, createSignal } from "solid-js";
import { ErrorNote } from "../components/ErrorNote.tsx";
import { SkeletonLines } from "../components/Skeleton.tsx";
import { api, call, errorMessage } from "../lib/api.ts";
import { EVENTS, LANGUAGES, type Template, type Workflow, type WorkflowBody } from "../lib/automation.ts";
import { dateTime } from "../lib/format.ts";
import { toast } from "../lib/toast.ts";

type Draft = {
  name: string;
  event: string;
  alertType: string;
  action: "run_script" | "notify";
  language: string;
  content: string;
  timeout: number;
};
const BLANK: Draft = { name: "", event: "alert.firing", alertType: "", action: "run_script", language: "bash", content: "", timeout: 300 };

function fromTemplate(t: Template): Draft {
  const a = t.actions[0] as { type: string; language?: string; content?: string; timeoutSeconds?: number };
  const trig = t.trigger as { event: string; alertType?: string };
  return {
    name: t.name,
    event: trig.event,
    alertType: trig.alertType ?? "",
    action: a.type === "notify" ? "notify" : "run_script",
    language: a.language ?? "bash",
    content: a.content ?? "",
    timeout: a.timeoutSeconds ?? 300,
  };
}

/** The runs of one workflow, loaded when opened. */
function Runs(props: { id: string }) {
  const [runs] = createResource(() => call(api.api.v1.workflows({ id: props.id }).runs.get()).then((r) => r.items));
  return (
    <Show when={runs.latest} fallback={<SkeletonLines count={2} />}>
      {(list) => (
        <ul class="runs" data-testid="workflow-runs">
          <For each={list()} fallback={<li class="muted">No runs yet.</li>}>
            {(r) => (
              <li>
                {dateTime(r.startedAt)} · {r.event}
                {r.deviceId ? ` · device ${String(r.deviceId).slice(0, 8)}` : ""} ·{" "}
                <For each={r.results as { action: string; ok: boolean; error?: string }[]}>
                  {(x) => (
                    <span class={x.ok ? "outcome-ok" : "outcome-bad"}>
                      {x.ok ? `${x.action} ok ` : `${x.action} failed: ${x.error ?? ""} `}
                    </span>
                  )}
                </For>
              </li>
            )}
          </For>
        </ul>
      )}
    </Show>
  );
}

/** Workflows: create from a template or blank, list, delete, run history. */
export function WorkflowsTab() {
  const [flows, { refetch }] = createResource(() => call(api.api.v1.workflows.get()).then((r) => r.items));
  const [templates] = createResource(() => call(api.api.v1["workflow-templates"].get()).then((r) => r.items));
  const [channels] = createResource(() => call(api.api.v1["notification-channels"].get()).then((r) => r.items));
  const [draft, setDraft] = createSignal<Draft>(BLANK);
  const [error, setError] = createSignal("");
  const [busy, setBusy] = createSignal(false);
  const [open, setOpen] = createSignal<string | null>(null);
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));

  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const d = draft();
    setError("");
    if (!d.name.trim()) return setError("Give the workflow a name.");
    const channelIds = f.getAll("channelIds").map(String);
    if (d.action === "run_script" && !d.content.trim()) return setError("Write the script to run.");
    if (d.action === "notify" && channelIds.length === 0) return setError("Pick at least one channel.");
    const body = {
      name: d.name.trim(),
      trigger: { event: d.event, ...(d.alertType ? { alertType: d.alertType } : {}) },
      actions: [
        d.action === "notify"
          ? { type: "notify", channelIds }
          : { type: "run_script", language: d.language, content: d.content, timeoutSeconds: d.timeout || 300 },
      ],
    } as WorkflowBody;
    setBusy(true);
    try {
      await call(api.api.v1.workflows.post(body));
      toast("success", `Workflow "${d.name}" created.`);
      setDraft(BLANK);
      refetch();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const remove = async (w: Workflow) => {
    try {
      await call(api.api.v1.workflows({ id: w.id }).delete());
      refetch();
    } catch (err) {
      toast("error", errorMessage(err));
    }
  };

  return (
    <section class="card section" aria-labelledby="wf-title">
      <div class="section-head">
        <div>
          <h2 id="wf-title">Workflows</h2>
          <p class="muted">When an event happens, run a script on the device or notify channels.</p>
        </div>
      </div>
      <form class="auto-form" onSubmit={submit} novalidate>
        <div class="field grow">
          <label for="wf-template">Start from</label>
          <select
            id="wf-template"
            onChange={(e) => {
              const t = templates.latest?.[Number(e.currentTarget.value)];
              setDraft(t ? fromTemplate(t) : BLANK);
            }}
          >
            <option value="-1">Blank workflow</option>
            <For each={templates.latest ?? []}>{(t, i) => <option value={i()}>{t.name}</option>}</For>
          </select>
        </div>
        <div class="field grow">
          <label for="wf-name">Name</label>
          <input id="wf-name" value={draft().name} onInput={(e) => set({ name: e.currentTarget.value })} />
        </div>
        <div class="field">
          <label for="wf-event">When</label>
          <select id="wf-event" value={draft().event} onChange={(e) => set({ event: e.currentTarget.value })}>
            <For each={EVENTS}>{(ev) => <option value={ev}>{ev}</option>}</For>
          </select>
        </div>
        <div class="field">
          <label for="wf-alert">Alert type (optional)</label>
          <input id="wf-alert" value={draft().alertType} onInput={(e) => set({ alertType: e.currentTarget.value })} />
        </div>
        <div class="field">
          <label for="wf-action">Then</label>
          <select id="wf-action" value={draft().action} onChange={(e) => set({ action: e.currentTarget.value as Draft["action"] })}>
            <option value="run_script">Run a script</option>
            <option value="notify">Notify channels</option>
          </select>
        </div>
        <Show
          when={draft().action === "run_script"}
          fallback={
            <fieldset class="field wide">
              <legend>Channels</legend>
              <For each={channels.latest ?? []} fallback={<span class="muted">No channels yet.</span>}>
                {(c) => (
                  <label class="check">
                    <input type="checkbox" name="channelIds" value={c.id} /> {c.name}
                  </label>
                )}
              </For>
            </fieldset>
          }
        >
          <div class="field">
            <label for="wf-lang">Language</label>
            <select id="wf-lang" value={draft().language} onChange={(e) => set({ language: e.currentTarget.value })}>
              <For each={LANGUAGES}>{(l) => <option value={l}>{l}</option>}</For>
            </select>
          </div>
          <div class="field">
            <label for="wf-timeout">Timeout (seconds)</label>
            <input
              id="wf-timeout"
              type="number"
              min="1"
              value={draft().timeout}
              onInput={(e) => set({ timeout: Number(e.currentTarget.value) })}
            />
          </div>
          <div class="field wide">
            <label for="wf-content">Script</label>
            <textarea id="wf-content" spellcheck={false} value={draft().content} onInput={(e) => set({ content: e.currentTarget.value })} />
          </div>
        </Show>
        <button type="submit" class="btn btn-primary" disabled={busy()} data-testid="workflow-create">
          {busy() ? "Creating…" : "Create workflow"}
        </button>
      </form>
      <Show when={error()}>
        <div class="error-note form-error" role="alert">
          {error()}
        </div>
      </Show>
      <Switch>
        <Match when={flows.error}>
          <ErrorNote message={errorMessage(flows.error)} onRetry={refetch} />
        </Match>
        <Match when={flows.loading && !flows.latest}>
          <SkeletonLines count={3} />
        </Match>
        <Match when={flows.latest?.length === 0}>
          <p class="muted">No workflows yet.</p>
        </Match>
        <Match when={flows.latest}>
          {(list) => (
            <ul class="list">
              <For each={list()}>
                {(w) => (
                  <li data-testid="workflow-row" class="card section">
                    <strong>{w.name}</strong> <span class="tag">{(w.trigger as { event: string }).event}</span>{" "}
                    <span class="muted">{(w.actions as { type: string }[]).map((a) => a.type).join(", ")}</span>{" "}
                    <button
                      type="button"
                      class="btn btn-sm"
                      aria-expanded={open() === w.id}
                      onClick={() => setOpen(open() === w.id ? null : w.id)}
                    >
                      Runs
                    </button>{" "}
                    <button type="button" class="btn btn-sm btn-danger" onClick={() => remove(w)}>
                      Delete
                    </button>
                    <Show when={open() === w.id}>
                      <Runs id={w.id} />
                    </Show>
                  </li>
                )}
              </For>
            </ul>
          )}
        </Match>
      </Switch>
    </section>
  );
}
