/** The action rows of the workflow form: drafts, their validation, and the fields of each type. */
import { For, Match, Show, Switch } from "solid-js";
import * as v from "valibot";
import {
  ACTION_TYPES,
  type ActionType,
  type Channel,
  type EVENTS,
  LANGUAGES,
  MAX_ACTIONS,
  SERVICE_NAME,
  type Template,
  type WorkflowAction,
} from "../lib/automation.ts";

export type Language = (typeof LANGUAGES)[number];
/** One action row of the form: the fields of every type, so switching types keeps what was typed. */
export type ActionDraft = {
  type: ActionType;
  language: Language;
  content: string;
  timeout: number;
  service: string;
  channelIds: string[];
  text: string;
};
export type Draft = { name: string; event: (typeof EVENTS)[number]; alertType: string; actions: ActionDraft[] };

export const blankAction = (type: ActionType = "run_script"): ActionDraft => ({
  type,
  language: "bash",
  content: "",
  timeout: 300,
  service: "",
  channelIds: [],
  text: "",
});
export const blank = (): Draft => ({ name: "", event: "alert.firing", alertType: "", actions: [blankAction()] });

export function actionDraft(a: WorkflowAction): ActionDraft {
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

export function fromTemplate(t: Template): Draft {
  const actions: readonly WorkflowAction[] = t.actions;
  return {
    name: t.name,
    event: t.trigger.event,
    alertType: t.trigger.alertType ?? "",
    actions: actions.map(actionDraft).slice(0, MAX_ACTIONS),
  };
}

export function toAction(a: ActionDraft): WorkflowAction {
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

export const ActionForm = v.variant("type", [
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
export const WorkflowForm = v.object({
  name: v.pipe(v.string(), v.trim(), v.nonEmpty("Give the workflow a name."), v.maxLength(200, "At most 200 characters.")),
  alertType: v.pipe(v.string(), v.trim(), v.maxLength(64, "At most 64 characters.")),
  actions: v.pipe(v.array(ActionForm), v.minLength(1, "Add an action."), v.maxLength(MAX_ACTIONS, `At most ${MAX_ACTIONS} actions.`)),
});

/** The fields of one action row; ids are `wf-a<index>-<field>`. */
export function ActionRow(props: {
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
