import { A } from "@solidjs/router";
import { For, Show } from "solid-js";
import { dismiss, toasts } from "../lib/toast.ts";

/** The toast stack: a polite live region so screen readers announce each message once. */
export function Toasts() {
  return (
    <div class="toasts" role="status" aria-live="polite" aria-relevant="additions">
      <For each={toasts()}>
        {(t) => (
          <div class="toast" data-kind={t.kind}>
            <p>
              {t.text}
              <Show when={t.href}>
                {(href) => (
                  <>
                    {" "}
                    <A href={href()}>Open</A>
                  </>
                )}
              </Show>
            </p>
            <button type="button" class="btn btn-ghost btn-sm" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
              ×
            </button>
          </div>
        )}
      </For>
    </div>
  );
}
