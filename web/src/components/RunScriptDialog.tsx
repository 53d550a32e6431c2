import { For, Show, createEffect, createResource, createRoot, createSignal, createUniqueId, onCleanup } from "solid-js";
import * as v from "valibot";
import { api, call, errorMessage } from "../lib/api.ts";
import { type CommandView, LANGUAGES, type ScriptLanguage, followCommand } from "../lib/commands.ts";
import { CommandOutput } from "./CommandOutput.tsx";
import "./commands.css";

const AD_HOC = "";
const RunForm = v.object({
  scriptId: v.string(),
  language: v.picklist(LANGUAGES),
  content: v.pipe(v.string(), v.maxLength(262144, "The script is too long.")),
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
  timeout: v.pipe(v.string(), v.trim(), v.regex(/^\d{0,5}$/, "Whole seconds, up to 86400.")),
});

/** Splits "a b 'c d'" style argument text: one argument per line keeps spaces unambiguous. */
export function parseTimeout(s: string): number | undefined {
  const n = Number(s);
  return s && n >= 1 && n <= 86400 ? n : undefined;
}

/** "Run script" on one device: a library script or ad-hoc code, then its output live. */
export function RunScriptDialog(props: { open: boolean; deviceId: string; hostname: string; onClose: () => void }) {
  let dialog: HTMLDialogElement | undefined;
  const titleId = createUniqueId();
  const [scripts] = createResource(
    () => props.open || undefined,
    () => call(api.api.v1.scripts.get()).then((r) => r.items),
  );
  const [scriptId, setScriptId] = createSignal(AD_HOC);
  const [language, setLanguage] = createSignal<ScriptLanguage>("bash");
  const [content, setContent] = createSignal("");
  const [args, setArgs] = createSignal("");
  const [timeout, setTimeoutText] = createSignal("");
  const [error, setError] = createSignal("");
  const [busy, setBusy] = createSignal(false);
  const [view, setView] = createSignal<(() => CommandView) | null>(null);
  let dispose: (() => void) | undefined;
  const reset = () => {
    dispose?.();
    dispose = undefined;
    setView(null);
    setError("");
  };
  onCleanup(reset);

  createEffect(() => {
    if (!dialog) return;
    if (props.open && !dialog.open) dialog.showModal();
    if (!props.open && dialog.open) dialog.close();
  });
  const chosen = () => scripts.latest?.find((s) => s.id === scriptId());
  createEffect(() => {
    const s = chosen();
    if (s) {
      setArgs(s.defaultArgs.join("\n"));
      setTimeoutText(String(s.timeoutSeconds));
    }
  });

  const submit = async (e: Event) => {
    e.preventDefault();
    const parsed = v.safeParse(RunForm, {
      scriptId: scriptId(),
      language: language(),
      content: content(),
      args: args(),
      timeout: timeout(),
    });
    if (!parsed.success) return setError(parsed.issues[0].message);
    const f = parsed.output;
    if (!f.scriptId && !f.content.trim()) return setError("Write a script, or pick one from the library.");
    const timeoutSeconds = parseTimeout(f.timeout);
    const payload = {
      ...(f.scriptId ? { scriptId: f.scriptId } : { language: f.language, content: f.content }),
      ...(f.args.length || !f.scriptId ? { args: f.args } : {}),
      ...(timeoutSeconds ? { timeoutSeconds } : {}),
    };
    setBusy(true);
    setError("");
    try {
      const res = await call(api.api.v1.devices({ id: props.deviceId }).commands.post({ type: "run_script", payload }));
      reset();
      createRoot((d) => {
        dispose = d;
        setView(() => followCommand(props.deviceId, res.id));
      });
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <dialog
      ref={dialog}
      class="wide"
      aria-labelledby={titleId}
      onClose={() => {
        reset();
        props.onClose();
      }}
    >
      <h2 id={titleId}>Run a script on {props.hostname}</h2>
      <form class="form-grid" onSubmit={submit} novalidate>
        <label>
          Script
          <select data-testid="run-script-select" value={scriptId()} onChange={(e) => setScriptId(e.currentTarget.value)}>
            <option value={AD_HOC}>Ad hoc (write it below)</option>
            <For each={scripts.latest ?? []}>
              {(s) => (
                <option value={s.id}>
                  {s.name} ({s.language})
                </option>
              )}
            </For>
          </select>
        </label>
        <Show when={!scriptId()} fallback={<Show when={chosen()}>{(s) => <pre class="command-output">{s().content}</pre>}</Show>}>
          <label>
            Language
            <select value={language()} onChange={(e) => setLanguage(e.currentTarget.value as ScriptLanguage)}>
              <For each={LANGUAGES}>{(l) => <option value={l}>{l}</option>}</For>
            </select>
          </label>
          <label>
            Script
            <textarea
              class="code-input"
              data-testid="run-script-content"
              spellcheck={false}
              value={content()}
              onInput={(e) => setContent(e.currentTarget.value)}
              placeholder="echo hello from $(hostname)"
            />
          </label>
        </Show>
        <div class="form-row">
          <label>
            Arguments (one per line)
            <textarea rows={2} data-testid="run-script-args" value={args()} onInput={(e) => setArgs(e.currentTarget.value)} />
          </label>
          <label>
            Timeout (seconds)
            <input inputmode="numeric" placeholder="300" value={timeout()} onInput={(e) => setTimeoutText(e.currentTarget.value)} />
          </label>
        </div>
        <Show when={error()}>
          <p class="field-error" role="alert">
            {error()}
          </p>
        </Show>
        <Show when={view()}>{(vw) => <CommandOutput view={vw()()} />}</Show>
        <div class="dialog-actions">
          <button type="button" class="btn" onClick={() => props.onClose()}>
            Close
          </button>
          <button type="submit" class="btn btn-primary" data-testid="run-script-submit" disabled={busy()}>
            {view() ? "Run again" : "Run"}
          </button>
        </div>
      </form>
    </dialog>
  );
}
