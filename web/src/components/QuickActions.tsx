import { For, Show, createEffect, createSignal, onCleanup } from "solid-js";

/** Remote actions that arrive with the commands capability; listed now, disabled until then. */
export const REMOTE_ACTIONS = ["Reboot", "Shutdown", "Open terminal", "Run script"] as const;
export const COMING_SOON = "Coming soon: remote actions arrive with the commands capability";

/** The "⋯" menu of a device row: Enter/Space opens, arrows move, Escape closes and returns focus. */
export function QuickActions(props: { hostname: string }) {
  const [open, setOpen] = createSignal(false);
  let wrap: HTMLDivElement | undefined;
  let trigger: HTMLButtonElement | undefined;
  const items = () => Array.from(wrap?.querySelectorAll<HTMLButtonElement>('[role="menuitem"]') ?? []);
  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) trigger?.focus();
  };
  // Outside clicks close the menu; the listener exists only while it is open (one per open menu, not per row).
  const onDocClick = (e: MouseEvent) => {
    if (wrap && !wrap.contains(e.target as Node)) close(false);
  };
  createEffect(() => {
    if (!open()) return;
    document.addEventListener("click", onDocClick);
    onCleanup(() => document.removeEventListener("click", onDocClick));
  });
  const onMenuKey = (e: KeyboardEvent) => {
    if (e.key === "Escape" || e.key === "Tab") {
      if (e.key === "Escape") e.preventDefault();
      close(e.key === "Escape");
      return;
    }
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    e.preventDefault();
    e.stopPropagation();
    const list = items();
    const i = list.indexOf(document.activeElement as HTMLButtonElement);
    list[(i + (e.key === "ArrowDown" ? 1 : -1) + list.length) % list.length]?.focus();
  };
  return (
    <div class="menu-wrap" ref={wrap}>
      <button
        ref={trigger}
        type="button"
        class="btn btn-ghost btn-sm icon-btn"
        aria-haspopup="menu"
        aria-expanded={open()}
        aria-label={`Actions for ${props.hostname}`}
        onClick={() => {
          setOpen(!open());
          if (open()) queueMicrotask(() => items()[0]?.focus());
        }}
      >
        ⋯
      </button>
      <Show when={open()}>
        <div class="menu" role="menu" aria-label={`Actions for ${props.hostname}`} onKeyDown={onMenuKey}>
          <For each={REMOTE_ACTIONS}>
            {(label) => (
              // Disabled items stay focusable (aria-disabled) so keyboard users can read why.
              <button type="button" role="menuitem" aria-disabled="true" title={COMING_SOON} onClick={(e) => e.preventDefault()}>
                <span class="muted">{label}</span>
                <span class="soon muted">soon</span>
              </button>
            )}
          </For>
        </div>
      </Show>
    </div>
  );
}
