import { For, Show, createEffect, createSignal, on, onCleanup } from "solid-js";
import { api, call, errorMessage } from "../lib/api.ts";
import { type CommandView, statusClass } from "../lib/commands.ts";
import { onLive } from "../lib/live.ts";
import type { Data } from "../lib/types.ts";
import { CommandOutput } from "./CommandOutput.tsx";
import { ErrorNote } from "./ErrorNote.tsx";
import { RelativeTime } from "./RelativeTime.tsx";
import "./commands.css";

/** A device's command as the API lists it (derived from the route through Eden). */
type Row = Data<ReturnType<typeof api.api.v1.devices>["commands"]["get"]>["items"][number];

/** A device's commands, newest first; a row opens its stored output. Refreshes on live command events. */
export function CommandHistory(props: { deviceId: string; reload?: number }) {
  const [items, setItems] = createSignal<Row[] | null>(null);
  const [error, setError] = createSignal("");
  const [selected, setSelected] = createSignal<string | null>(null);
  const [detail, setDetail] = createSignal<CommandView | null>(null);
  const load = async () => {
    try {
      const page = await call(api.api.v1.devices({ id: props.deviceId }).commands.get({ query: { limit: 20 } }));
      setItems(page.items as Row[]);
      setError("");
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  createEffect(on(() => props.reload, load));
  let pending: ReturnType<typeof setTimeout> | undefined;
  onCleanup(() => clearTimeout(pending));
  onCleanup(
    onLive((e) => {
      if (e.type !== "command.updated" || e.data.deviceId !== props.deviceId) return;
      clearTimeout(pending);
      pending = setTimeout(load, 500);
      if (e.data.commandId === selected()) void open(e.data.commandId);
    }),
  );
  const open = async (id: string) => {
    setSelected(id);
    try {
      const c = await call(api.api.v1.commands({ id }).get());
      setDetail({ status: c.status, exitCode: c.exitCode, stdout: c.stdout ?? "", stderr: c.stderr ?? "" });
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <section class="card" aria-labelledby="command-history-title">
      <div class="section-head section">
        <h2 id="command-history-title">Commands</h2>
        <button type="button" class="btn btn-sm btn-ghost" onClick={load}>
          Refresh
        </button>
      </div>
      <Show when={error()}>
        <div class="section">
          <ErrorNote message={error()} onRetry={load} />
        </div>
      </Show>
      <Show
        when={items()?.length}
        fallback={<p class="section muted">{items() ? "No commands were run on this device yet." : "Loading…"}</p>}
      >
        <div class="table-wrap">
          <table class="table history-table">
            <thead>
              <tr>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col">Exit</th>
                <th scope="col">Requested</th>
                <th scope="col">Started</th>
                <th scope="col">Finished</th>
              </tr>
            </thead>
            <tbody>
              <For each={items() ?? []}>
                {(c) => (
                  <tr
                    data-testid="command-row"
                    data-clickable
                    data-status={c.status}
                    tabindex="0"
                    aria-selected={selected() === c.id}
                    onClick={() => open(c.id)}
                    onKeyDown={(e) => {
                      if (e.key === "Enter" || e.key === " ") {
                        e.preventDefault();
                        open(c.id);
                      }
                    }}
                  >
                    <td>{c.type.replace("_", " ")}</td>
                    <td>
                      <span class={statusClass(c.status)}>{c.status.replace("_", " ")}</span>
                    </td>
                    <td>{c.exitCode ?? "—"}</td>
                    <td>
                      <RelativeTime value={c.createdAt} />
                    </td>
                    <td>{c.startedAt ? <RelativeTime value={c.startedAt} /> : "—"}</td>
                    <td>{c.finishedAt ? <RelativeTime value={c.finishedAt} /> : "—"}</td>
                  </tr>
                )}
              </For>
            </tbody>
          </table>
        </div>
      </Show>
      <Show when={selected() ? detail() : null}>
        {(d) => (
          <div class="section" data-testid="command-detail">
            <CommandOutput view={d()} />
          </div>
        )}
      </Show>
    </section>
  );
}
