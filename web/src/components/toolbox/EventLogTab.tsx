import * as v from "valibot";
import { For, Show, createSignal } from "solid-js";
import type { EventLogList, LogLevel } from "../../../../server/protocol/toolbox.ts";
import { LOG_TEXT_PATTERN, SERVICE_NAME_PATTERN } from "../../../../server/protocol/toolbox-limits.ts";
import { api, call, errorMessage } from "../../lib/api.ts";
import { ErrorNote } from "../ErrorNote.tsx";
import { SkeletonLines } from "../Skeleton.tsx";

const PAGE = 100;
/** An event's time to the second, in the technician's locale. */
const stamp = (ms: number) => new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
const LEVEL_CLASS: Record<string, string> = {
  critical: "sev sev-critical",
  error: "sev sev-critical",
  warning: "sev sev-warning",
  info: "sev sev-info",
  debug: "pill",
};
const Text = v.union([v.literal(""), v.pipe(v.string(), v.regex(new RegExp(LOG_TEXT_PATTERN)))]);
const Unit = v.union([v.literal(""), v.pipe(v.string(), v.regex(new RegExp(SERVICE_NAME_PATTERN)))]);

/** The device's event log: level, text, source and start filters; newest first, a page of 100 at a time. */
export default function EventLogTab(props: { deviceId: string; os: string }) {
  const [level, setLevel] = createSignal<LogLevel>("error");
  const [text, setText] = createSignal("");
  const [unit, setUnit] = createSignal("");
  const [since, setSince] = createSignal("");
  const [log, setLog] = createSignal<"System" | "Application">("System");
  const [pages, setPages] = createSignal<number[]>([]); // the `until` of each page after the first
  const [data, setData] = createSignal<EventLogList>();
  const [error, setError] = createSignal<string>();
  const [loading, setLoading] = createSignal(false);
  const textOk = () => v.is(Text, text().trim());
  const unitOk = () => v.is(Unit, unit().trim());

  const load = async (until?: number) => {
    if (!textOk() || !unitOk()) return;
    setLoading(true);
    try {
      const query = {
        level: level(),
        limit: PAGE,
        ...(text().trim() ? { q: text().trim() } : {}),
        ...(unit().trim() ? { unit: unit().trim() } : {}),
        ...(since() ? { since: new Date(since()).toISOString() } : {}),
        ...(until !== undefined ? { until: new Date(until).toISOString() } : {}),
        ...(props.os === "windows" ? { log: log() } : {}),
      };
      setData(await call(api.api.v1.devices({ id: props.deviceId })["event-logs"].get({ query })));
      setError(undefined);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setLoading(false);
    }
  };
  const search = (e?: Event) => {
    e?.preventDefault();
    setPages([]);
    void load();
  };
  const older = () => {
    const last = data()?.items.at(-1);
    if (!last) return;
    const until = last.time - 1;
    setPages((p) => [...p, until]);
    void load(until);
  };
  const newer = () => {
    const p = pages().slice(0, -1);
    setPages(p);
    void load(p.at(-1));
  };
  void load();

  return (
    <section class="card section toolbox" aria-label="Event log">
      <div class="section-head toolbox-head">
        <h2>Event log</h2>
      </div>
      <form class="toolbox-filters" onSubmit={search}>
        <Show when={props.os === "windows"}>
          <label class="field">
            <span>Log</span>
            <select value={log()} onChange={(e) => setLog(e.currentTarget.value as "System" | "Application")}>
              <option value="System">System</option>
              <option value="Application">Application</option>
            </select>
          </label>
        </Show>
        <label class="field">
          <span>Level</span>
          <select value={level()} onChange={(e) => setLevel(e.currentTarget.value as LogLevel)} data-testid="log-level">
            <option value="error">Errors</option>
            <option value="warning">Warnings and errors</option>
            <option value="info">Everything but debug</option>
          </select>
        </label>
        <label class="field">
          <span>Text</span>
          <input
            type="search"
            value={text()}
            onInput={(e) => setText(e.currentTarget.value)}
            aria-invalid={!textOk()}
            placeholder="Words in the message"
            data-testid="log-text"
          />
        </label>
        <label class="field">
          <span>{props.os === "windows" ? "Source" : "Unit / program"}</span>
          <input
            type="text"
            value={unit()}
            onInput={(e) => setUnit(e.currentTarget.value)}
            aria-invalid={!unitOk()}
            placeholder="e.g. sshd"
          />
        </label>
        <label class="field">
          <span>Since</span>
          <input type="datetime-local" value={since()} onInput={(e) => setSince(e.currentTarget.value)} />
        </label>
        <button type="submit" class="btn btn-primary btn-sm" disabled={!textOk() || !unitOk()} data-testid="log-search">
          Search
        </button>
      </form>
      <Show when={!textOk() || !unitOk()}>
        <p class="field-error" role="alert">
          Letters, digits, spaces and _ . , : = @ / + # % - only (no quotes or shell characters).
        </p>
      </Show>
      <Show when={error()}>{(m) => <ErrorNote message={m()} onRetry={() => void load(pages().at(-1))} />}</Show>
      <Show
        when={data()}
        fallback={
          <Show when={!error()}>
            <SkeletonLines count={6} height="22px" label="Loading events…" />
          </Show>
        }
      >
        {(d) => (
          <>
            <Show when={d().items.length === 0}>
              <p class="muted">No events match these filters.</p>
            </Show>
            <Show when={d().items.length > 0}>
              <div class="table-wrap" aria-busy={loading()}>
                <table class="table toolbox-table" data-testid="log-table">
                  <thead>
                    <tr>
                      <th scope="col">Time</th>
                      <th scope="col">Level</th>
                      <th scope="col">Source</th>
                      <th scope="col">Message</th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={d().items}>
                      {(e) => (
                        <tr data-testid="log-row">
                          <td class="nowrap">{stamp(e.time)}</td>
                          <td>
                            <span class={LEVEL_CLASS[e.level] ?? "pill"}>{e.level}</span>
                          </td>
                          <td class="nowrap">
                            {e.source}
                            <Show when={e.eventId}>
                              <span class="muted small"> #{e.eventId}</span>
                            </Show>
                          </td>
                          <td class="log-message">{e.message}</td>
                        </tr>
                      )}
                    </For>
                  </tbody>
                </table>
              </div>
            </Show>
            <div class="pager">
              <span class="muted small">
                Page {pages().length + 1} · {d().items.length} events, newest first
              </span>
              <button type="button" class="btn btn-sm" disabled={pages().length === 0 || loading()} onClick={newer}>
                Newer
              </button>
              <button type="button" class="btn btn-sm" disabled={!d().more || loading()} onClick={older} data-testid="log-older">
                Older
              </button>
            </div>
          </>
        )}
      </Show>
    </section>
  );
}
