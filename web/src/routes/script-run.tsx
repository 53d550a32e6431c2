import { For, Show, createResource, createSignal, onCleanup } from "solid-js";
import { api, call, errorMessage } from "../lib/api.ts";
import { FINAL, statusClass } from "../lib/commands.ts";
import { createGroups } from "../lib/fleet.ts";
import { onLive, watchDevice } from "../lib/live.ts";
import type { Script } from "./script-editor.tsx";

interface Result {
  deviceId: string;
  hostname: string;
  id: string;
  status: string;
  exitCode: number | null;
  stdout: string;
}

/** "Run on…": search devices, pick several, queue the script on all of them, results fill in live. */
export function ScriptRun(props: { script: Script; onClose: () => void }) {
  const [q, setQ] = createSignal("");
  const [picked, setPicked] = createSignal<Map<string, string>>(new Map());
  const [results, setResults] = createSignal<Result[]>([]);
  const [error, setError] = createSignal("");
  const groups = createGroups();
  const [groupId, setGroupId] = createSignal("");
  const [devices] = createResource(q, (query) =>
    call(api.api.v1.devices.get({ query: { limit: 50, ...(query.trim() ? { q: query.trim() } : {}) } })).then((p) => p.items),
  );
  const unwatches: (() => void)[] = [];
  let timer: ReturnType<typeof setInterval> | undefined;
  onCleanup(() => {
    for (const u of unwatches) u();
    clearInterval(timer);
  });
  /** The whole stored result of one command (live chunks can miss output that came before the page watched). */
  const refresh = async (id: string) => {
    try {
      const c = await call(api.api.v1.commands({ id }).get());
      setResults((list) => list.map((x) => (x.id === id ? { ...x, status: c.status, exitCode: c.exitCode, stdout: c.stdout ?? "" } : x)));
    } catch {}
  };
  onCleanup(
    onLive((e) => {
      if (e.type !== "command.updated" || !results().some((r) => r.id === e.data.commandId)) return;
      setResults((list) =>
        list.map((r) =>
          r.id === e.data.commandId ? { ...r, status: e.data.status, exitCode: e.data.exitCode, stdout: r.stdout + e.data.stdout } : r,
        ),
      );
      if (FINAL.has(e.data.status)) void refresh(e.data.commandId);
    }),
  );
  const poll = async () => {
    const open = results().filter((r) => !FINAL.has(r.status));
    if (open.length === 0) return clearInterval(timer);
    for (const r of open) await refresh(r.id);
  };
  const toggle = (id: string, hostname: string) => {
    const m = new Map(picked());
    if (m.has(id)) m.delete(id);
    else m.set(id, hostname);
    setPicked(m);
  };
  /** Queues the script on the picked devices, or on every member of a smart group now. */
  const run = async (byGroup = false) => {
    const ids = [...picked().keys()];
    if (!byGroup && ids.length === 0) return setError("Pick at least one device.");
    if (byGroup && !groupId()) return setError("Pick a smart group.");
    setError("");
    try {
      const payload = { scriptId: props.script.id };
      const res = await call(
        api.api.v1.commands.post(
          byGroup ? { groupId: groupId(), type: "run_script", payload } : { deviceIds: ids, type: "run_script", payload },
        ),
      );
      const names = new Map(picked());
      if (byGroup) {
        const page = await call(api.api.v1.groups({ id: groupId() }).devices.get({ query: { limit: 500 } }));
        for (const d of page.items) names.set(d.id, d.hostname);
      }
      for (const i of res.items) unwatches.push(watchDevice(i.deviceId));
      setResults(
        res.items.map((i) => ({ ...i, hostname: names.get(i.deviceId) ?? i.deviceId, status: "queued", exitCode: null, stdout: "" })),
      );
      if (res.items.length === 0) setError("The group has no members now.");
      clearInterval(timer);
      timer = setInterval(poll, 3000);
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <section class="card section form-grid" aria-label={`Run ${props.script.name} on devices`}>
      <div class="section-head">
        <h2>Run “{props.script.name}” on…</h2>
        <button type="button" class="btn btn-sm btn-ghost" onClick={() => props.onClose()}>
          Close
        </button>
      </div>
      <label>
        Search devices
        <input type="search" data-testid="run-on-search" value={q()} onInput={(e) => setQ(e.currentTarget.value)} />
      </label>
      <ul class="device-picker" aria-label="Devices">
        <For each={devices.latest ?? []}>
          {(d) => (
            <li>
              <label>
                <input type="checkbox" data-testid="run-on-device" checked={picked().has(d.id)} onChange={() => toggle(d.id, d.hostname)} />{" "}
                {d.hostname} <span class="muted">({d.status})</span>
              </label>
            </li>
          )}
        </For>
      </ul>
      <div class="dialog-actions">
        <span class="muted">{picked().size} selected</span>
        <button type="button" class="btn btn-primary" data-testid="run-on-submit" onClick={() => run()}>
          Run on {picked().size} device{picked().size === 1 ? "" : "s"}
        </button>
      </div>
      <Show when={(groups.data() ?? []).length > 0}>
        <div class="dialog-actions">
          <label>
            Or every member of a smart group{" "}
            <select data-testid="run-on-group" value={groupId()} onChange={(e) => setGroupId(e.currentTarget.value)}>
              <option value="">Choose a group…</option>
              <For each={groups.data() ?? []}>
                {(g) => (
                  <option value={g.id}>
                    {g.name} ({g.memberCount})
                  </option>
                )}
              </For>
            </select>
          </label>
          <button type="button" class="btn" data-testid="run-on-group-submit" disabled={!groupId()} onClick={() => run(true)}>
            Run on the group
          </button>
        </div>
      </Show>
      <Show when={error()}>
        <p class="field-error" role="alert">
          {error()}
        </p>
      </Show>
      <Show when={results().length}>
        <table class="table" aria-live="polite">
          <thead>
            <tr>
              <th scope="col">Device</th>
              <th scope="col">Status</th>
              <th scope="col">Exit</th>
              <th scope="col">Output</th>
            </tr>
          </thead>
          <tbody>
            <For each={results()}>
              {(r) => (
                <tr data-testid="run-result" data-status={r.status}>
                  <td>{r.hostname}</td>
                  <td>
                    <span class={statusClass(r.status)}>{r.status.replace("_", " ")}</span>
                  </td>
                  <td>{r.exitCode ?? "—"}</td>
                  <td>
                    <pre class="result-output">{r.stdout.slice(-2000)}</pre>
                  </td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </Show>
    </section>
  );
}
