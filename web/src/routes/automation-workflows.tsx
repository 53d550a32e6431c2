import { For, Index, Match, Show, Switch, createResource, createSignal } from "solid-js";
import { createStore } from "solid-js/store";
import * as v from "valibot";
import { ResourceList } from "../components/ResourceList.tsx";
import { SkeletonLines } from "../components/Skeleton.tsx";
import { api, call, errorMessage } from "../lib/api.ts";
import {
  ACTION_TYPES,
  type ActionType,
  type Channel,
  describeAction,
  EVENTS,
  LANGUAGES,
  MAX_ACTIONS,
  SERVICE_NAME,
  type Template,
  type Workflow,
  type WorkflowAction,
  type WorkflowBody,
  apply,
} from "../lib/automation.ts";
import { dateTime } from "../lib/format.ts";
import { fieldErrors } from "../lib/forms.ts";
import { toast } from "../lib/toast.ts";

type Language = (typeof LANGUAGES)[number];
/** One action row of the form: the fields of every type, so switching types keeps what was typed. */
type ActionDraft = {
  type: ActionType;
  language: Language;
  content: string;
  timeout: number;
  service: string;
  channelIds: string[];
  text: string;
};
type Draft = { name: string; event: (typeof EVENTS)[number]; alertType: string; actions: ActionDraft[] };

const blankAction = (type: ActionType = "run_script"): ActionDraft => ({
  type,
  language: "bash",
  content: "",
  timeout: 300,
  service: "",
  channelIds: [],
  text: "",
});
const blank = (): Draft => ({ name: "", event: "alert.firing", alertType: "", actions: [blankAction()] });

function actionDraft(a: WorkflowAction): ActionDraft {
  const d = blankAction(a.type);
  switch (a.type) {
    case "run_script":
      return { ...d, language: a.language ?? "bash", content: a.content ?? "", timeout: a.timeoutSeconds ?? 300 };
    case "restart_service":
      return { ...d, service: a.service };
    case "notify":
      return { ...d, channelIds: [...a.channelIds] };
    case "add_note":
      return { ...d, text: a.text };
  }
}

function fromTemplate(t: Template): Draft {
  const actions: readonly WorkflowAction[] = t.actions;
  return {
    name: t.name,
    event: t.trigger.event,
    alertType: t.trigger.alertType ?? "",
    actions: actions.map(actionDraft).slice(0, MAX_ACTIONS),
  };
}

function toAction(a: ActionDraft): WorkflowAction {
  switch (a.type) {
    case "run_script":
      return { type: "run_script", language: a.language, content: a.content, timeoutSeconds: a.timeout };
    case "restart_service":
      return { type: "restart_service", service: a.service.trim() };
    case "notify":
      return { type: "notify", channelIds: a.channelIds };
    case "add_note":
      return { type: "add_note", text: a.text.trim() };
  }
}

const ActionForm = v.variant("type", [
  v.object({
    type: v.literal("run_script"),
    content: v.pipe(v.string(), v.trim(), v.nonEmpty("Write the script to run.")),
    timeout: v.pipe(
      v.number("Enter seconds."),
      v.integer("Enter whole seconds."),
      v.minValue(1, "At least 1 second."),
      v.maxValue(86400, "At most 86400 seconds (a day)."),
    ),
  }),
  v.object({
    type: v.literal("restart_service"),
    service: v.pipe(
      v.string(),
      v.trim(),
      v.nonEmpty("Name the service, such as nginx or Spooler."),
      v.regex(SERVICE_NAME, "Use the service's name: letters, digits and _ . @ - only (no spaces or quotes), at most 128."),
    ),
  }),
  v.object({ type: v.literal("notify"), channelIds: v.pipe(v.array(v.string()), v.minLength(1, "Pick at least one channel.")) }),
  v.object({
    type: v.literal("add_note"),
    text: v.pipe(v.string(), v.trim(), v.nonEmpty("Write the note."), v.maxLength(2000, "At most 2000 characters.")),
  }),
]);
const WorkflowForm = v.object({
  name: v.pipe(v.string(), v.trim(), v.nonEmpty("Give the workflow a name."), v.maxLength(200, "At most 200 characters.")),
  alertType: v.pipe(v.string(), v.trim(), v.maxLength(64, "At most 64 characters.")),
  actions: v.pipe(v.array(ActionForm), v.minLength(1, "Add an action."), v.maxLength(MAX_ACTIONS, `At most ${MAX_ACTIONS} actions.`)),
});

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

/** The fields of one action row; ids are `wf-a<index>-<field>`. */
function ActionRow(props: {
  index: number;
  action: ActionDraft;
  count: number;
  channels: Channel[];
  errors: Record<string, string>;
  set: <K extends keyof ActionDraft>(key: K, value: ActionDraft[K]) => void;
  remove: () => void;
}) {
  const id = (field: string) => `wf-a${props.index}-${field}`;
  const err = (field: string) => props.errors[`actions.${props.index}.${field}`];
  const note = (field: string) => (
    <Show when={err(field)}>
      <span class="field-error" id={`${id(field)}-err`}>
        {err(field)}
      </span>
    </Show>
  );
  return (
    // a row of fields across the form's width (the form's fieldset rule wraps them)
    <fieldset style={{ flex: "1 1 100%", "align-items": "flex-end" }} data-testid="workflow-action">
      <legend>Action {props.index + 1}</legend>
      <div class="field">
        <label for={id("type")}>Then</label>
        <select id={id("type")} value={props.action.type} onChange={(e) => props.set("type", e.currentTarget.value as ActionType)}>
          <For each={ACTION_TYPES}>{(t) => <option value={t.value}>{t.label}</option>}</For>
        </select>
      </div>
      <Switch>
        <Match when={props.action.type === "run_script"}>
          <div class="field">
            <label for={id("lang")}>Language</label>
            <select
              id={id("lang")}
              value={props.action.language}
              onChange={(e) => props.set("language", e.currentTarget.value as Language)}
            >
              <For each={LANGUAGES}>{(l) => <option value={l}>{l}</option>}</For>
            </select>
          </div>
          <div class="field">
            <label for={id("timeout")}>Timeout (seconds)</label>
            <input
              id={id("timeout")}
              type="number"
              min="1"
              max="86400"
              value={props.action.timeout}
              aria-invalid={!!err("timeout")}
              aria-describedby={`${id("timeout")}-err`}
              onInput={(e) => props.set("timeout", e.currentTarget.valueAsNumber)}
            />
            {note("timeout")}
          </div>
          <div class="field wide">
            <label for={id("content")}>Script</label>
            <textarea
              id={id("content")}
              spellcheck={false}
              value={props.action.content}
              aria-invalid={!!err("content")}
              aria-describedby={`${id("content")}-err`}
              onInput={(e) => props.set("content", e.currentTarget.value)}
            />
            {note("content")}
          </div>
        </Match>
        <Match when={props.action.type === "restart_service"}>
          <div class="field grow">
            <label for={id("service")}>Service name</label>
            <input
              id={id("service")}
              placeholder="nginx, Spooler, com.example.daemon"
              value={props.action.service}
              aria-invalid={!!err("service")}
              aria-describedby={`${id("service")}-err`}
              onInput={(e) => props.set("service", e.currentTarget.value)}
            />
            <span class="hint">systemctl on Linux, Restart-Service on Windows, launchctl on macOS.</span>
            {note("service")}
          </div>
        </Match>
        <Match when={props.action.type === "notify"}>
          <fieldset class="field wide" aria-describedby={`${id("channelIds")}-err`}>
            <legend>Channels</legend>
            <For each={props.channels} fallback={<span class="muted">No channels yet.</span>}>
              {(c) => (
                <label class="check">
                  <input
                    type="checkbox"
                    checked={props.action.channelIds.includes(c.id)}
                    onChange={(e) =>
                      props.set(
                        "channelIds",
                        e.currentTarget.checked ? [...props.action.channelIds, c.id] : props.action.channelIds.filter((x) => x !== c.id),
                      )
                    }
                  />{" "}
                  {c.name}
                </label>
              )}
            </For>
            {note("channelIds")}
          </fieldset>
        </Match>
        <Match when={props.action.type === "add_note"}>
          <div class="field wide">
            <label for={id("text")}>Note</label>
            <textarea
              id={id("text")}
              maxLength={2000}
              value={props.action.text}
              aria-invalid={!!err("text")}
              aria-describedby={`${id("text")}-err`}
              onInput={(e) => props.set("text", e.currentTarget.value)}
            />
            <span class="hint">Added to the alert that started the run; skipped for device offline/online events.</span>
            {note("text")}
          </div>
        </Match>
      </Switch>
      <button
        type="button"
        class="btn btn-sm btn-danger"
        disabled={props.count <= 1}
        onClick={() => props.remove()}
        aria-label={`Remove action ${props.index + 1}`}
      >
        Remove
      </button>
    </fieldset>
  );
}

/** Workflows: create from a template or blank with up to ten actions, list, delete, run history. */
export function WorkflowsTab() {
  const [flows, { refetch }] = createResource(() => call(api.api.v1.workflows.get()).then((r) => r.items));
  const [templates] = createResource(() => call(api.api.v1["workflow-templates"].get()).then((r) => r.items));
  const [channels] = createResource(() => call(api.api.v1["notification-channels"].get()).then((r) => r.items));
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
                  <button type="button" class="btn btn-sm btn-danger" onClick={() => remove(w)}>
                    Delete
                  </button>
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
