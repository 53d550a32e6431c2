import { For, Show, createMemo, createSignal } from "solid-js";
import type { ProcessInfo, Signal } from "../../../../server/protocol/toolbox.ts";
import { api, call, errorMessage } from "../../lib/api.ts";
import { bytes } from "../../lib/format.ts";
import { can } from "../../lib/session.ts";
import { toast } from "../../lib/toast.ts";
import { Segmented } from "../Segmented.tsx";
import { Polled } from "./Polled.tsx";
import { poll } from "./poll.ts";

type SortKey = "pid" | "name" | "user" | "cpuPercent" | "memoryBytes";
const COLUMNS: { key: SortKey; label: string; numeric?: boolean }[] = [
  { key: "pid", label: "PID", numeric: true },
  { key: "name", label: "Name" },
  { key: "user", label: "User" },
  { key: "cpuPercent", label: "CPU %", numeric: true },
  { key: "memoryBytes", label: "Memory", numeric: true },
];
const SIGNALS: { value: Signal; label: string }[] = [
  { value: "TERM", label: "TERM — ask to exit" },
  { value: "KILL", label: "KILL — end at once" },
  { value: "INT", label: "INT — interrupt" },
  { value: "HUP", label: "HUP — hang up / reload" },
  { value: "QUIT", label: "QUIT" },
  { value: "STOP", label: "STOP — pause" },
  { value: "CONT", label: "CONT — resume" },
  { value: "USR1", label: "USR1" },
  { value: "USR2", label: "USR2" },
];
/** Rows drawn at most; a filter narrows the rest. */
const MAX_ROWS = 400;
/** Seconds between lists while the tab is open (the agent collects only then). */
const REFRESH_MS = 2000;

/** Sorted rows with their depth in the tree view: children under their parent, siblings sorted. */
function treeRows(items: ProcessInfo[], cmp: (a: ProcessInfo, b: ProcessInfo) => number, keep: Set<number> | null) {
  const byPid = new Map(items.map((p) => [p.pid, p]));
  const children = new Map<number, ProcessInfo[]>();
  const roots: ProcessInfo[] = [];
  for (const p of items) {
    if (keep && !keep.has(p.pid)) continue;
    if (p.ppid !== p.pid && byPid.has(p.ppid) && (!keep || keep.has(p.ppid))) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
    else roots.push(p);
  }
  const out: { p: ProcessInfo; depth: number }[] = [];
  const walk = (list: ProcessInfo[], depth: number) => {
    for (const p of [...list].sort(cmp)) {
      out.push({ p, depth });
      if (depth < 64) walk(children.get(p.pid) ?? [], depth + 1);
    }
  };
  walk(roots, 0);
  return out;
}

/** The device's processes: a table or a tree, sorted and filtered, refreshed every 2 s while shown; kill with a signal. */
export default function ProcessesTab(props: { deviceId: string }) {
  const list = poll(() => call(api.api.v1.devices({ id: props.deviceId }).processes.get()), REFRESH_MS);
  const [view, setView] = createSignal<"table" | "tree">("table");
  const [filter, setFilter] = createSignal("");
  const [sort, setSort] = createSignal<{ key: SortKey; desc: boolean }>({ key: "cpuPercent", desc: true });
  const [target, setTarget] = createSignal<ProcessInfo>();
  const [signal, setSignal] = createSignal<Signal>("TERM");
  const [tree, setTree] = createSignal(false);
  let dialog: HTMLDialogElement | undefined;

  const cmp = (a: ProcessInfo, b: ProcessInfo) => {
    const { key, desc } = sort();
    const x = a[key];
    const y = b[key];
    const r = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    return (desc ? -r : r) || a.pid - b.pid;
  };
  const rows = createMemo(() => {
    const items = list.data()?.items ?? [];
    const q = filter().trim().toLowerCase();
    const match = (p: ProcessInfo) =>
      !q ||
      String(p.pid) === q ||
      p.name.toLowerCase().includes(q) ||
      p.user.toLowerCase().includes(q) ||
      p.command.toLowerCase().includes(q);
    if (view() === "table")
      return items
        .filter(match)
        .sort(cmp)
        .map((p) => ({ p, depth: 0 }));
    let keep: Set<number> | null = null;
    if (q) {
      // matches and their ancestors, so each match shows where it hangs
      const byPid = new Map(items.map((p) => [p.pid, p]));
      keep = new Set();
      for (const p of items.filter(match)) {
        for (let c: ProcessInfo | undefined = p, hops = 0; c && !keep.has(c.pid) && hops < 64; hops++) {
          keep.add(c.pid);
          c = byPid.get(c.ppid);
        }
      }
    }
    return treeRows(items, cmp, keep);
  });
  const sortBy = (key: SortKey) => setSort((s) => ({ key, desc: s.key === key ? !s.desc : key !== "name" && key !== "user" }));
  const ariaSort = (key: SortKey) => (sort().key === key ? (sort().desc ? "descending" : "ascending") : "none");

  const openKill = (p: ProcessInfo) => {
    setTarget(p);
    setSignal("TERM");
    setTree(false);
    dialog?.showModal();
  };
  const kill = async () => {
    const p = target();
    dialog?.close();
    if (!p) return;
    try {
      const r = await call(
        api.api.v1.devices({ id: props.deviceId }).processes({ pid: p.pid }).kill.post({ signal: signal(), tree: tree() }),
      );
      toast(
        "success",
        `Sent SIG${signal()} to ${r.name} (${p.pid})${r.killed.length > 1 ? ` and ${r.killed.length - 1} child processes` : ""}.`,
      );
      list.reload();
    } catch (e) {
      toast("error", errorMessage(e));
    }
  };

  return (
    <section class="card section toolbox" aria-label="Processes">
      <div class="section-head toolbox-head">
        <h2>Processes</h2>
        <div class="toolbox-controls">
          <input
            type="search"
            placeholder="Filter by name, user, command or PID"
            aria-label="Filter processes"
            value={filter()}
            onInput={(e) => setFilter(e.currentTarget.value)}
            data-testid="process-filter"
          />
          <Segmented
            label="View"
            options={[
              { value: "table", label: "Table" },
              { value: "tree", label: "Tree" },
            ]}
            value={view()}
            onChange={setView}
          />
        </div>
      </div>
      <Polled list={list} loading="Loading processes…">
        {(data) => (
          <>
            <p class="muted small" aria-live="polite">
              {data().items.length} processes{filter() ? `, ${rows().length} shown` : ""} · refreshed every 2 s while this tab is open
              {rows().length > MAX_ROWS ? ` · first ${MAX_ROWS} drawn, filter to narrow` : ""}
            </p>
            <div class="table-wrap">
              <table class="table toolbox-table" data-testid="process-table">
                <thead>
                  <tr>
                    <For each={COLUMNS}>
                      {(c) => (
                        <th scope="col" aria-sort={ariaSort(c.key)} class={c.numeric ? "num" : undefined}>
                          <button type="button" class="th-sort" onClick={() => sortBy(c.key)}>
                            {c.label}
                            <span aria-hidden="true">{sort().key === c.key ? (sort().desc ? " ▾" : " ▴") : ""}</span>
                          </button>
                        </th>
                      )}
                    </For>
                    <th scope="col">Command</th>
                    <Show when={can("device:manage")}>
                      <th scope="col">
                        <span class="sr-only">Actions</span>
                      </th>
                    </Show>
                  </tr>
                </thead>
                <tbody>
                  <For each={rows().slice(0, MAX_ROWS)}>
                    {(r) => (
                      <tr data-testid="process-row" data-pid={r.p.pid}>
                        <td class="num">{r.p.pid}</td>
                        <td>
                          <span class="proc-name" style={{ "padding-left": `${r.depth * 14}px` }}>
                            {r.depth > 0 ? "└ " : ""}
                            {r.p.name}
                          </span>
                        </td>
                        <td>{r.p.user}</td>
                        <td class="num">{r.p.cpuPercent.toFixed(1)}</td>
                        <td class="num">{bytes(r.p.memoryBytes)}</td>
                        <td class="cmd" title={r.p.command}>
                          {r.p.command}
                        </td>
                        <Show when={can("device:manage")}>
                          <td>
                            <button type="button" class="btn btn-sm btn-danger" onClick={() => openKill(r.p)} data-testid="process-kill">
                              Kill…
                            </button>
                          </td>
                        </Show>
                      </tr>
                    )}
                  </For>
                </tbody>
              </table>
            </div>
          </>
        )}
      </Polled>
      <dialog ref={dialog} aria-labelledby="kill-title" data-testid="kill-dialog">
        <h2 id="kill-title">
          Kill {target()?.name} ({target()?.pid})?
        </h2>
        <p class="dialog-message cmd">{target()?.command}</p>
        <label class="field">
          <span>Signal</span>
          <select value={signal()} onChange={(e) => setSignal(e.currentTarget.value as Signal)} data-testid="kill-signal">
            <For each={SIGNALS}>{(s) => <option value={s.value}>{s.label}</option>}</For>
          </select>
        </label>
        <label class="check">
          <input type="checkbox" checked={tree()} onChange={(e) => setTree(e.currentTarget.checked)} data-testid="kill-tree" /> Also its
          child processes (the whole tree)
        </label>
        <div class="dialog-actions">
          <button type="button" class="btn" onClick={() => dialog?.close()}>
            Cancel
          </button>
          <button type="button" class="btn btn-danger" onClick={() => void kill()} data-testid="kill-confirm">
            Send signal
          </button>
        </div>
      </dialog>
    </section>
  );
}
