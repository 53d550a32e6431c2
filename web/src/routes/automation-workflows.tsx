import { For, Index, Show, createResource, createSignal } from "solid-js";
import { createStore } from "solid-js/store";
import * as v from "valibot";
import { ResourceList } from "../components/ResourceList.tsx";
import { SkeletonLines } from "../components/Skeleton.tsx";
import { api, call, errorMessage } from "../lib/api.ts";
import { describeAction, EVENTS, MAX_ACTIONS, type Workflow, type WorkflowBody, apply } from "../lib/automation.ts";
import { dateTime } from "../lib/format.ts";
import { fieldErrors } from "../lib/forms.ts";
import { can } from "../lib/session.ts";
import { toast } from "../lib/toast.ts";
import { ActionRow, type Draft, WorkflowForm, blank, blankAction, fromTemplate, toAction } from "./automation-workflow-actions.tsx";

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
                <For each={r.results}>
                  {(x) => (
                    <span class={x.ok ? "outcome-ok" : "outcome-bad"}>
                      {!x.ok
                        ? `${x.action} failed: ${x.error ?? ""} `
                        : x.skipped
                          ? `${x.action} skipped: ${x.skipped} `
                          : `${x.action} ok `}
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

/** Workflows: create from a template or blank with up to ten actions, list, delete, run history. */
export function WorkflowsTab() {
  const [flows, { refetch }] = createResource(() => call(api.api.v1.workflows.get()).then((r) => r.items));
  const [templates] = createResource(() => call(api.api.v1["workflow-templates"].get()).then((r) => r.items));
  // channels are listed to those who manage notifications; others see rules and workflows without their names
  const [channels] = createResource(
    () => can("notification:manage"),
    () => call(api.api.v1["notification-channels"].get()).then((r) => r.items),
  );
  const [draft, setDraft] = createStore<Draft>(blank());
  const [errors, setErrors] = createSignal<Record<string, string>>({});
  const [busy, setBusy] = createSignal(false);
  const [open, setOpen] = createSignal<string | null>(null);
  const [template, setTemplate] = createSignal("-1");
  const channelName = (id: string) => channels.latest?.find((c) => c.id === id)?.name;
  const reset = (d: Draft) => {
    setDraft(d);
    setErrors({});
  };

  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    const parsed = v.safeParse(WorkflowForm, { name: draft.name, alertType: draft.alertType, actions: draft.actions });
    if (!parsed.success) return setErrors(fieldErrors(parsed.issues));
    setErrors({});
    const body: WorkflowBody = {
      name: parsed.output.name,
      trigger: { event: draft.event, ...(parsed.output.alertType ? { alertType: parsed.output.alertType } : {}) },
      actions: draft.actions.map(toAction),
    };
    setBusy(true);
    try {
      await call(api.api.v1.workflows.post(body));
      toast("success", `Workflow "${body.name}" created.`);
      reset(blank());
      setTemplate("-1");
      refetch();
    } catch (err) {
      setErrors({ form: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };

  const remove = (w: Workflow) => apply(() => call(api.api.v1.workflows({ id: w.id }).delete()), refetch);

  return (
    <section class="card section" aria-labelledby="wf-title">
      <div class="section-head">
        <div>
          <h2 id="wf-title">Workflows</h2>
          <p class="muted">When an event happens, run a script or restart a service on the device, notify channels, or note the alert.</p>
        </div>
      </div>
      <Show
        when={can("automation:manage")}
        fallback={<p class="muted">Creating and deleting workflows needs the automation:manage permission.</p>}
      >
        <form class="auto-form" onSubmit={submit} novalidate>
          <div class="field grow">
            <label for="wf-template">Start from</label>
            <select
              id="wf-template"
              value={template()}
              onChange={(e) => {
                setTemplate(e.currentTarget.value);
                const t = templates.latest?.[Number(e.currentTarget.value)];
                reset(t ? fromTemplate(t) : blank());
              }}
            >
              <option value="-1">Blank workflow</option>
              <For each={templates.latest ?? []}>{(t, i) => <option value={String(i())}>{t.name}</option>}</For>
            </select>
          </div>
          <div class="field grow">
            <label for="wf-name">Name</label>
            <input
              id="wf-name"
              value={draft.name}
              aria-invalid={!!errors().name}
              aria-describedby="wf-name-err"
              onInput={(e) => setDraft("name", e.currentTarget.value)}
            />
            <Show when={errors().name}>
              <span class="field-error" id="wf-name-err">
                {errors().name}
              </span>
            </Show>
          </div>
          <div class="field">
            <label for="wf-event">When</label>
            <select id="wf-event" value={draft.event} onChange={(e) => setDraft("event", e.currentTarget.value as Draft["event"])}>
              <For each={EVENTS}>{(ev) => <option value={ev}>{ev}</option>}</For>
            </select>
          </div>
          <div class="field">
            <label for="wf-alert">Alert type (optional)</label>
            <input
              id="wf-alert"
              value={draft.alertType}
              aria-invalid={!!errors().alertType}
              aria-describedby="wf-alert-err"
              onInput={(e) => setDraft("alertType", e.currentTarget.value)}
            />
            <Show when={errors().alertType}>
              <span class="field-error" id="wf-alert-err">
                {errors().alertType}
              </span>
            </Show>
          </div>
          <Index each={draft.actions}>
            {(action, i) => (
              <ActionRow
                index={i}
                action={action()}
                count={draft.actions.length}
                channels={channels.latest ?? []}
                errors={errors()}
                set={(key, value) => {
                  setDraft("actions", i, key, value);
                  setErrors(({ [`actions.${i}.${key}`]: _, ...rest }) => rest);
                }}
                remove={() => setDraft("actions", (list) => list.filter((_, j) => j !== i))}
              />
            )}
          </Index>
          <button
            type="button"
            class="btn"
            disabled={draft.actions.length >= MAX_ACTIONS}
            onClick={() => setDraft("actions", draft.actions.length, blankAction())}
            data-testid="workflow-add-action"
          >
            Add action
          </button>
          <button type="submit" class="btn btn-primary" disabled={busy()} data-testid="workflow-create">
            {busy() ? "Creating…" : "Create workflow"}
          </button>
        </form>
      </Show>
      <Show when={errors().form ?? errors().actions}>
        <div class="error-note form-error" role="alert">
          {errors().form ?? errors().actions}
        </div>
      </Show>
      <ResourceList data={flows} retry={refetch} empty="No workflows yet.">
        {(list) => (
          <ul class="list">
            <For each={list()}>
              {(w) => (
                <li data-testid="workflow-row" class="card section">
                  <strong>{w.name}</strong> <span class="tag">{w.trigger.event}</span>
                  <Show when={w.trigger.alertType}>
                    {" "}
                    <span class="tag">{w.trigger.alertType}</span>
                  </Show>{" "}
                  <button
                    type="button"
                    class="btn btn-sm"
                    aria-expanded={open() === w.id}
                    onClick={() => setOpen(open() === w.id ? null : w.id)}
                  >
                    Runs
                  </button>{" "}
                  <Show when={can("automation:manage")}>
                    <button type="button" class="btn btn-sm btn-danger" onClick={() => remove(w)}>
                      Delete
                    </button>
                  </Show>
                  <ol class="muted" data-testid="workflow-actions">
                    <For each={w.actions}>{(a) => <li>{describeAction(a, channelName)}</li>}</For>
                  </ol>
                  <Show when={open() === w.id}>
                    <Runs id={w.id} />
                  </Show>
                </li>
              )}
            </For>
          </ul>
        )}
      </ResourceList>
    </section>
  );
}
