import { For, Show, createEffect, createMemo, createSignal, on } from "solid-js";
import { api, call, errorMessage } from "../lib/api.ts";
import { crumbs, joinPath } from "./files-lib.ts";

/** Folders of one node, as loaded from the device (the explorer's list call, directories only). */
interface Children {
  state: "loading" | "ready" | "error";
  names: string[];
  error?: string;
  truncated?: boolean;
}

/** One visible row of the tree. */
interface Row {
  path: string;
  name: string;
  level: number;
}

/** Children of one folder shown at most (the list call answers at most its own maximum anyway). */
const MAX_CHILDREN = 2_000;

/**
 * The folder tree beside a pane's list: the device's folders from the root down, each loaded from the
 * device when first expanded (the same list call as the pane), the pane's folder and its ancestors
 * opened and marked. Keyboard as a WAI-ARIA tree: ↑/↓ move, → expands or enters, ← collapses or goes
 * to the parent, Home/End, Enter or Space opens the folder in the pane. A row of a pane (or a file
 * from the desktop) dropped on a folder lands there, as on the other pane.
 */
export function FileTree(props: {
  deviceId: string;
  elevated: boolean;
  hidden: boolean;
  /** The root of the tree (`/` or `C:\`). */
  root: string;
  /** The pane's folder: marked, and its ancestors expanded. */
  current: string;
  /** Bumped when something changed (reload the expanded folders). */
  version: number;
  onOpen: (path: string) => void;
  onDrop: (ev: DragEvent, dir: string) => void;
}) {
  const [children, setChildren] = createSignal<Record<string, Children>>({});
  const [expanded, setExpanded] = createSignal<Set<string>>(new Set());
  const [focused, setFocused] = createSignal(props.root);
  const [over, setOver] = createSignal<string>();
  let tree: HTMLDivElement | undefined;

  const load = async (path: string) => {
    setChildren((c) => ({ ...c, [path]: { state: "loading", names: c[path]?.names ?? [] } }));
    try {
      const l = await call(
        api.api.v1.devices({ id: props.deviceId }).files.get({
          query: { path, hidden: props.hidden ? "true" : "false", elevated: props.elevated ? "true" : "false" },
        }),
      );
      const names = l.items
        .filter((e) => e.type === "dir")
        .map((e) => e.name)
        .sort((a, b) => a.localeCompare(b))
        .slice(0, MAX_CHILDREN);
      setChildren((c) => ({ ...c, [path]: { state: "ready", names, truncated: l.truncated } }));
    } catch (e) {
      setChildren((c) => ({ ...c, [path]: { state: "error", names: [], error: errorMessage(e) } }));
    }
  };
  const expand = (path: string) => {
    setExpanded((s) => new Set(s).add(path));
    if (!children()[path]) void load(path);
  };
  const collapse = (path: string) =>
    setExpanded((s) => {
      const n = new Set(s);
      n.delete(path);
      return n;
    });

  // the pane's folder: its ancestors open, itself focused (what a person navigated to stays in view)
  createEffect(
    on(
      () => props.current,
      (cur) => {
        const chain = crumbs(cur).map((c) => c.path);
        expand(props.root);
        if (chain[0] !== props.root) return;
        for (const p of chain.slice(0, -1)) expand(p);
        setFocused(cur);
      },
    ),
  );
  // privilege, hidden files or a change elsewhere: the expanded folders are read again
  createEffect(
    on(
      () => [props.elevated, props.hidden, props.version],
      () => {
        for (const p of expanded()) void load(p);
      },
      { defer: true },
    ),
  );

  /**
   * The pane's folder's path, each ancestor to its child on the way: that child is shown even when its
   * parent's listing leaves it out (a folder with more entries than a listing answers, a hidden one).
   */
  const onTheWay = createMemo(() => {
    const chain = crumbs(props.current);
    const next = new Map<string, string>();
    for (let i = 0; i + 1 < chain.length; i++) next.set(chain[i]!.path, chain[i + 1]!.label);
    return next;
  });

  /** The rows a person sees: depth first through the expanded folders. */
  const made = new Map<string, Row>();
  const rows = createMemo(() => {
    const out: Row[] = [];
    if (made.size > 20_000) made.clear();
    const walk = (path: string, name: string, level: number) => {
      // the same object for the same folder: <For> keeps its element (and the keyboard focus on it)
      let row = made.get(path);
      if (!row || row.level !== level) {
        row = { path, name, level };
        made.set(path, row);
      }
      out.push(row);
      if (!expanded().has(path)) return;
      let names = children()[path]?.names ?? [];
      const pinned = onTheWay().get(path);
      if (pinned && children()[path]?.state === "ready" && !names.includes(pinned))
        names = [...names, pinned].sort((a, b) => a.localeCompare(b));
      for (const n of names) walk(joinPath(path, n), n, level + 1);
    };
    walk(props.root, props.root, 1);
    return out;
  });

  const focusRow = (path: string) => {
    setFocused(path);
    queueMicrotask(() => tree?.querySelector<HTMLElement>(`[data-tree-path="${CSS.escape(path)}"]`)?.focus());
  };
  const parentRow = (r: Row) => {
    const list = rows();
    const i = list.findIndex((x) => x.path === r.path);
    for (let j = i - 1; j >= 0; j--) if ((list[j] as Row).level < r.level) return list[j];
    return undefined;
  };
  const onKey = (ev: KeyboardEvent, r: Row) => {
    const list = rows();
    const i = list.findIndex((x) => x.path === r.path);
    const kids = children()[r.path];
    switch (ev.key) {
      case "ArrowDown":
        if (i < list.length - 1) focusRow((list[i + 1] as Row).path);
        break;
      case "ArrowUp":
        if (i > 0) focusRow((list[i - 1] as Row).path);
        break;
      case "ArrowRight":
        if (!expanded().has(r.path)) expand(r.path);
        else if (kids?.names.length) focusRow(joinPath(r.path, kids.names[0] as string));
        break;
      case "ArrowLeft":
        if (expanded().has(r.path) && r.path !== props.root) collapse(r.path);
        else {
          const p = parentRow(r);
          if (p) focusRow(p.path);
        }
        break;
      case "Home":
        focusRow(props.root);
        break;
      case "End":
        focusRow((list[list.length - 1] as Row).path);
        break;
      case "Enter":
      case " ":
        props.onOpen(r.path);
        break;
      default:
        return;
    }
    ev.preventDefault();
  };

  return (
    <div class="files-tree" role="tree" aria-label="Folders" ref={tree} data-testid="file-tree">
      <For each={rows()}>
        {(r) => {
          const state = () => children()[r.path];
          const open = () => expanded().has(r.path);
          return (
            <div
              role="treeitem"
              aria-level={r.level}
              aria-expanded={state()?.state === "ready" && state()?.names.length === 0 ? undefined : open()}
              aria-selected={props.current === r.path}
              tabIndex={focused() === r.path ? 0 : -1}
              data-tree-path={r.path}
              data-testid="tree-item"
              classList={{ current: props.current === r.path, over: over() === r.path }}
              style={{ "padding-left": `${(r.level - 1) * 14 + 4}px` }}
              onKeyDown={(ev) => onKey(ev, r)}
              onFocus={() => setFocused(r.path)}
              onClick={() => {
                setFocused(r.path);
                props.onOpen(r.path);
              }}
              onDragOver={(ev) => {
                ev.preventDefault();
                ev.stopPropagation();
                setOver(r.path);
              }}
              onDragLeave={() => setOver((o) => (o === r.path ? undefined : o))}
              onDrop={(ev) => {
                ev.preventDefault();
                ev.stopPropagation();
                setOver(undefined);
                props.onDrop(ev, r.path);
              }}
            >
              <span
                class="files-tree-toggle"
                aria-hidden="true"
                onClick={(ev) => {
                  ev.stopPropagation();
                  if (open()) collapse(r.path);
                  else expand(r.path);
                }}
              >
                {state()?.state === "ready" && state()?.names.length === 0 ? "·" : open() ? "▾" : "▸"}
              </span>
              <span class="files-tree-name" title={r.path}>
                {r.name}
              </span>
              <Show when={open() && state()?.state === "loading"}>
                <span class="muted"> …</span>
              </Show>
              <Show when={open() && state()?.state === "error"}>
                <span class="files-tree-error" title={state()?.error}>
                  {" "}
                  (unreadable)
                </span>
              </Show>
            </div>
          );
        }}
      </For>
    </div>
  );
}
