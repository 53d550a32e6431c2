import { For, Show, createMemo, createSignal } from "solid-js";
import { api, call } from "../../lib/api.ts";
import { Polled } from "./Polled.tsx";
import { poll } from "./poll.ts";

const SCOPE: Record<string, string> = { system: "System", user: "User", process: "Agent process" };

/** The device's environment variables (system, per user on Windows, the agent's own), searched by key or value. */
export default function EnvironmentTab(props: { deviceId: string }) {
  const list = poll(() => call(api.api.v1.devices({ id: props.deviceId }).environment.get({ query: {} })));
  const [q, setQ] = createSignal("");
  const rows = createMemo(() => {
    const s = q().trim().toLowerCase();
    return (list.data()?.items ?? []).filter((v) => !s || v.key.toLowerCase().includes(s) || v.value.toLowerCase().includes(s));
  });
  return (
    <section class="card section toolbox" aria-label="Environment variables">
      <div class="section-head toolbox-head">
        <h2>Environment variables</h2>
        <div class="toolbox-controls">
          <input
            type="search"
            placeholder="Search keys and values"
            aria-label="Search environment variables"
            value={q()}
            onInput={(e) => setQ(e.currentTarget.value)}
            data-testid="env-search"
          />
          <button type="button" class="btn btn-sm" onClick={list.reload}>
            Refresh
          </button>
        </div>
      </div>
      <Polled list={list} loading="Loading variables…">
        {(data) => (
          <>
            <p class="muted small" aria-live="polite">
              {rows().length} of {data().items.length} variables
            </p>
            <div class="table-wrap">
              <table class="table toolbox-table" data-testid="env-table">
                <thead>
                  <tr>
                    <th scope="col">Scope</th>
                    <th scope="col">Name</th>
                    <th scope="col">Value</th>
                  </tr>
                </thead>
                <tbody>
                  <For each={rows()}>
                    {(v) => (
                      <tr data-testid="env-row">
                        <td class="nowrap">
                          {SCOPE[v.scope] ?? v.scope}
                          <Show when={v.user}>
                            <span class="muted small"> {v.user}</span>
                          </Show>
                        </td>
                        <td class="mono">{v.key}</td>
                        <td class="mono env-value">{v.value}</td>
                      </tr>
                    )}
                  </For>
                </tbody>
              </table>
            </div>
          </>
        )}
      </Polled>
    </section>
  );
}
