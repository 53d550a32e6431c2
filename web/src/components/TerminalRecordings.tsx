import { For, Show, createResource, createSignal, lazy } from "solid-js";
import { api, call, errorMessage } from "../lib/api.ts";
import { dateTime } from "../lib/format.ts";
import { ErrorNote } from "./ErrorNote.tsx";

// The replay player carries xterm.js: it loads only when a recording is opened.
const Replay = lazy(() => import("./TerminalReplay.tsx"));

/** Recorded terminal sessions of one device, each playable in a read-only terminal. */
export function TerminalRecordings(props: { deviceId: string }) {
  const [sessions, { refetch }] = createResource(
    () => props.deviceId,
    (deviceId) => call(api.api.v1["terminal-sessions"].get({ query: { deviceId } })).then((r) => r.items),
  );
  const [playing, setPlaying] = createSignal<string | null>(null);
  return (
    <section class="card" aria-labelledby="recordings-title">
      <div class="section-head section">
        <h2 id="recordings-title">Terminal sessions</h2>
        <button type="button" class="btn btn-sm btn-ghost" onClick={refetch}>
          Refresh
        </button>
      </div>
      <Show when={sessions.error}>
        <div class="section">
          <ErrorNote message={errorMessage(sessions.error)} onRetry={refetch} />
        </div>
      </Show>
      <Show when={!sessions.error && sessions.latest?.length} fallback={<p class="section muted">No terminal sessions yet.</p>}>
        <div class="table-wrap">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">User</th>
                <th scope="col">Ended</th>
                <th scope="col">
                  <span class="sr-only">Replay</span>
                </th>
              </tr>
            </thead>
            <tbody>
              <For each={sessions.latest ?? []}>
                {(s) => (
                  <tr data-testid="recording-row">
                    <td>{dateTime(s.startedAt)}</td>
                    <td>{s.userEmail ?? "—"}</td>
                    <td>{s.endedAt ? `${dateTime(s.endedAt)}${s.endReason ? ` (${s.endReason})` : ""}` : "in progress"}</td>
                    <td>
                      <button type="button" class="btn btn-sm" onClick={() => setPlaying(playing() === s.id ? null : s.id)}>
                        {playing() === s.id ? "Close" : "Replay"}
                      </button>
                    </td>
                  </tr>
                )}
              </For>
            </tbody>
          </table>
        </div>
      </Show>
      <Show when={playing()}>
        {(id) => (
          <div class="section">
            <Replay sessionId={id()} />
          </div>
        )}
      </Show>
    </section>
  );
}
