import { For, type JSX, Show } from "solid-js";
import { LANGUAGES, type Rule } from "../lib/automation.ts";

/** The check of a script rule: a library script or one written here, and how often devices run it. */
export function CheckFields(props: {
  rule: Rule | null;
  source: "library" | "inline";
  onSource: (source: "library" | "inline") => void;
  scripts: { id: string; name: string }[];
  error: JSX.Element;
}) {
  return (
    <fieldset class="field wide" aria-describedby="r-check-hint">
      <legend>Check script</legend>
      <p class="hint" id="r-check-hint">
        Devices in scope run it every interval; its exit code is the value (0 passes, so "&gt; 0" fires on any failure). The first line of
        its output goes into the alert.
      </p>
      <div class="field">
        <label for="r-check-source">Script</label>
        <select id="r-check-source" value={props.source} onChange={(e) => props.onSource(e.currentTarget.value as "library" | "inline")}>
          <option value="library">From the library</option>
          <option value="inline">Write one here</option>
        </select>
      </div>
      <Show
        when={props.source === "library"}
        fallback={
          <>
            <div class="field">
              <label for="r-check-lang">Language</label>
              <select id="r-check-lang" name="checkLanguage">
                <For each={LANGUAGES}>
                  {(l) => (
                    <option value={l} selected={(props.rule?.check?.spec as { language?: string } | undefined)?.language === l}>
                      {l}
                    </option>
                  )}
                </For>
              </select>
            </div>
            <div class="field wide">
              <label for="r-check-content">Check script</label>
              <textarea
                id="r-check-content"
                name="checkContent"
                spellcheck={false}
                value={props.rule?.check?.scriptId ? "" : ((props.rule?.check?.spec as { content?: string } | undefined)?.content ?? "")}
              />
            </div>
          </>
        }
      >
        <div class="field grow">
          <label for="r-check-script">Library script</label>
          <select id="r-check-script" name="checkScriptId">
            <For each={props.scripts} fallback={<option value="">No scripts in the library yet</option>}>
              {(sc) => (
                <option value={sc.id} selected={props.rule?.check?.scriptId === sc.id}>
                  {sc.name}
                </option>
              )}
            </For>
          </select>
        </div>
      </Show>
      <div class="field">
        <label for="r-check-interval">Every (seconds)</label>
        <input id="r-check-interval" name="checkInterval" type="number" min="10" value={props.rule?.check?.intervalSeconds ?? 300} />
      </div>
      {props.error}
    </fieldset>
  );
}
