import { For, Show, createSignal } from "solid-js";
import * as v from "valibot";
import { api, call, errorMessage } from "../lib/api.ts";
import { LANGUAGES, type ScriptLanguage } from "../lib/commands.ts";
import { toast } from "../lib/toast.ts";
import type { Data } from "../lib/types.ts";

/** A library script as the API gives it (derived from the route through Eden). */
export type Script = Data<typeof api.api.v1.scripts.get>["items"][number];

const ScriptForm = v.object({
  name: v.pipe(v.string(), v.trim(), v.nonEmpty("Give the script a name."), v.maxLength(200, "At most 200 characters.")),
  description: v.pipe(v.string(), v.trim(), v.maxLength(2000, "At most 2000 characters.")),
  language: v.picklist(LANGUAGES),
  content: v.pipe(v.string(), v.nonEmpty("The script is empty."), v.maxLength(262144, "The script is too long.")),
  args: v.pipe(
    v.string(),
    v.transform((s) =>
      s
        .split("\n")
        .map((a) => a.trim())
        .filter(Boolean),
    ),
    v.maxLength(64, "At most 64 arguments."),
  ),
  timeout: v.pipe(v.string(), v.trim(), v.toNumber(), v.integer("Whole seconds."), v.minValue(1), v.maxValue(86400, "At most 86400 s.")),
  tags: v.pipe(
    v.string(),
    v.transform((s) =>
      s
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean),
    ),
    v.maxLength(32, "At most 32 tags."),
  ),
});

/** Creates or edits a library script (monospace editor). */
export function ScriptEditor(props: { script: Script | null; onSaved: (s: Script) => void; onCancel: () => void }) {
  const s = props.script;
  const [name, setName] = createSignal(s?.name ?? "");
  const [description, setDescription] = createSignal(s?.description ?? "");
  const [language, setLanguage] = createSignal<ScriptLanguage>(s?.language ?? "bash");
  const [content, setContent] = createSignal(s?.content ?? "");
  const [args, setArgs] = createSignal(s?.defaultArgs.join("\n") ?? "");
  const [timeout, setTimeoutText] = createSignal(String(s?.timeoutSeconds ?? 300));
  const [tags, setTags] = createSignal(s?.tags.join(", ") ?? "");
  const [error, setError] = createSignal("");
  const [busy, setBusy] = createSignal(false);

  const save = async (e: Event) => {
    e.preventDefault();
    const p = v.safeParse(ScriptForm, {
      name: name(),
      description: description(),
      language: language(),
      content: content(),
      args: args(),
      timeout: timeout(),
      tags: tags(),
    });
    if (!p.success) return setError(p.issues[0].message);
    const f = p.output;
    const body = {
      name: f.name,
      description: f.description,
      language: f.language,
      content: f.content,
      defaultArgs: f.args,
      timeoutSeconds: f.timeout,
      tags: f.tags,
    };
    setBusy(true);
    try {
      const saved = s ? await call(api.api.v1.scripts({ id: s.id }).put(body)) : await call(api.api.v1.scripts.post(body));
      toast("success", `Script "${saved.name}" was saved.`);
      props.onSaved(saved as Script);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="form-grid section" onSubmit={save} novalidate aria-label={s ? `Edit ${s.name}` : "New script"}>
      <div class="form-row">
        <label>
          Name
          <input data-testid="script-name" value={name()} onInput={(e) => setName(e.currentTarget.value)} maxLength={200} />
        </label>
        <label>
          Language
          <select value={language()} onChange={(e) => setLanguage(e.currentTarget.value as ScriptLanguage)}>
            <For each={LANGUAGES}>{(l) => <option value={l}>{l}</option>}</For>
          </select>
        </label>
        <label>
          Timeout (seconds)
          <input inputmode="numeric" value={timeout()} onInput={(e) => setTimeoutText(e.currentTarget.value)} />
        </label>
      </div>
      <label>
        Description
        <input value={description()} onInput={(e) => setDescription(e.currentTarget.value)} />
      </label>
      <label>
        Script
        <textarea
          class="code-input"
          data-testid="script-content"
          spellcheck={false}
          rows={14}
          value={content()}
          onInput={(e) => setContent(e.currentTarget.value)}
          onKeyDown={(e) => {
            // Tab indents inside the editor; Escape then Tab leaves it for keyboard users.
            if (e.key !== "Tab" || e.shiftKey) return;
            e.preventDefault();
            const t = e.currentTarget;
            const at = t.selectionStart;
            t.setRangeText("  ", at, t.selectionEnd, "end");
            setContent(t.value);
          }}
        />
      </label>
      <div class="form-row">
        <label>
          Default arguments (one per line)
          <textarea rows={2} value={args()} onInput={(e) => setArgs(e.currentTarget.value)} />
        </label>
        <label>
          Tags (comma separated)
          <input value={tags()} onInput={(e) => setTags(e.currentTarget.value)} />
        </label>
      </div>
      <Show when={error()}>
        <p class="field-error" role="alert">
          {error()}
        </p>
      </Show>
      <div class="dialog-actions">
        <button type="button" class="btn" onClick={() => props.onCancel()}>
          Cancel
        </button>
        <button type="submit" class="btn btn-primary" data-testid="script-save" disabled={busy()}>
          Save script
        </button>
      </div>
    </form>
  );
}
