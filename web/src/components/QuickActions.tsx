import { useNavigate } from "@solidjs/router";
import { For, Show, createEffect, createSignal, onCleanup } from "solid-js";
import { can } from "../lib/session.ts";

/** Remote actions of a device; each opens the device page's dialog (`?action=`) or the terminal page. */
export const REMOTE_ACTIONS = [
  { label: "Open terminal", action: "terminal", need: "device:terminal" },
  { label: "Run script", action: "run-script", need: "device:script" },
  { label: "Reboot", action: "reboot", need: "device:manage" },
  { label: "Shutdown", action: "shutdown", need: "device:manage" },
] as const;
export type RemoteAction = (typeof REMOTE_ACTIONS)[number]["action"];

/** Where a remote action of a device opens. */
export function actionHref(deviceId: string, action: RemoteAction): string {
  return action === "terminal" ? `/devices/${deviceId}/terminal` : `/devices/${deviceId}?action=${action}`;
}

/** The "⋯" menu of a device row (only the actions the user may take; none: no menu). */
export function QuickActions(props: { hostname: string; deviceId: string }) {
  return (
    <Show when={REMOTE_ACTIONS.some((a) => can(a.need))}>
      <QuickMenu {...props} />
    </Show>
  );
}

/** The menu itself: Enter/Space opens, arrows move, Escape closes and returns focus. */
function QuickMenu(props: { hostname: string; deviceId: string }) {
  const navigate = useNavigate();
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
          <For each={REMOTE_ACTIONS.filter((a) => can(a.need))}>
            {(a) => (
              <button
                type="button"
                role="menuitem"
                data-testid={`quick-${a.action}`}
                onClick={() => {
                  close(false);
                  navigate(actionHref(props.deviceId, a.action));
                }}
              >
                {a.label}
              </button>
            )}
          </For>
        </div>
      </Show>
    </div>
  );
}
