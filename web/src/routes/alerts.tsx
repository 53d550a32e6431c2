import { A, useSearchParams } from "@solidjs/router";
import { For, Match, Show, Switch, createEffect, createSignal, on, onCleanup } from "solid-js";
import { AlertItem } from "../components/AlertItem.tsx";
import { EmptyState } from "../components/EmptyState.tsx";
import { ErrorNote } from "../components/ErrorNote.tsx";
import { Segmented } from "../components/Segmented.tsx";
import { SkeletonLines } from "../components/Skeleton.tsx";
import { api, call, errorMessage } from "../lib/api.ts";
import { createGroups, createTags } from "../lib/fleet.ts";
import { onLive, onLiveOpen } from "../lib/live.ts";
import type { Alert } from "../lib/types.ts";

type StateFilter = "unresolved" | "firing" | "pending" | "resolved" | "all";
type SeverityFilter = "all" | "critical" | "warning";
const STATES: readonly { value: StateFilter; label: string }[] = [
  { value: "unresolved", label: "Unresolved" },
  { value: "firing", label: "Firing" },
  { value: "pending", label: "Pending" },
  { value: "resolved", label: "Resolved" },
  { value: "all", label: "All" },
];
const SEVERITIES: readonly { value: SeverityFilter; label: string }[] = [
  { value: "all", label: "All severities" },
  { value: "critical", label: "Critical" },
  { value: "warning", label: "Warning" },
];
const PAGE = 50;

/** Alerts of the organization, unresolved first by default, with live arrivals. */
export default function Alerts() {
  document.title = "Alerts · SENTpulse";
  const [params, setParams] = useSearchParams<{ state?: string; severity?: string; groupId?: string; tag?: string }>();
  const groups = createGroups();
  const tags = createTags();
  const groupId = () => params.groupId ?? "";
  const tag = () => params.tag ?? "";
  /** A group or tag narrows the list: an empty one is then not "all clear". */
  const narrowed = () => Boolean(groupId() || tag());
  const state = (): StateFilter => (STATES.some((s) => s.value === params.state) ? (params.state as StateFilter) : "unresolved");
  const severity = (): SeverityFilter =>
    SEVERITIES.some((s) => s.value === params.severity) ? (params.severity as SeverityFilter) : "all";
  const [items, setItems] = createSignal<Alert[] | null>(null);
  const [total, setTotal] = createSignal({ n: 0, exact: true });
  const [cursor, setCursor] = createSignal<string | null>(null);
  const [error, setError] = createSignal("");
  const [more, setMore] = createSignal(false);
  let gen = 0;

  const query = (c?: string) => ({
    limit: PAGE,
    ...(state() !== "all" ? { state: state() as Exclude<StateFilter, "all"> } : {}),
    ...(severity() !== "all" ? { severity: severity() as Exclude<SeverityFilter, "all"> } : {}),
    ...(groupId() ? { groupId: groupId() } : {}),
    ...(tag() ? { tag: tag() } : {}),
    ...(c ? { cursor: c } : {}),
  });

  /** First page; `merge` keeps what is already listed and puts new arrivals on top. */
  async function load(merge = false) {
    const g = ++gen;
    if (!merge) setItems(null);
    try {
      const page = await call(api.api.v1.alerts.get({ query: query() }));
      if (g !== gen) return;
      setError("");
      setTotal({ n: page.total, exact: page.totalExact });
      const current = items();
      if (merge && current) {
        const fresh = new Map(page.items.map((a) => [a.id, a]));
        const known = new Set(current.map((a) => a.id));
        setItems([...page.items.filter((a) => !known.has(a.id)), ...current.map((a) => fresh.get(a.id) ?? a)]);
      } else {
        setItems(page.items);
        setCursor(page.nextCursor);
      }
    } catch (e) {
      if (g === gen) setError(errorMessage(e));
    }
  }

  async function loadMore() {
    const c = cursor();
    if (!c) return;
    setMore(true);
    try {
      const page = await call(api.api.v1.alerts.get({ query: query(c) }));
      const known = new Set(items()?.map((a) => a.id));
      setItems([...(items() ?? []), ...page.items.filter((a) => !known.has(a.id))]);
      setCursor(page.nextCursor);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setMore(false);
    }
  }

  createEffect(on([state, severity, groupId, tag], () => load()));
  onCleanup(onLiveOpen(() => load(true)));
  onCleanup(
    onLive((e) => {
      if (e.type === "alert.created") load(true);
      if (e.type === "alert.resolved")
        setItems((list) => list?.map((a) => (a.id === e.data.alertId ? { ...a, state: "resolved", resolvedAt: new Date() } : a)) ?? null);
    }),
  );
  const replace = (a: Alert) => setItems((list) => list?.map((x) => (x.id === a.id ? a : x)) ?? null);

  return (
    <div>
      <div class="page-head">
        <div>
          <h1>Alerts</h1>
          <p>Thresholds and offline checks that fired. New alerts appear here as they happen.</p>
        </div>
      </div>
      <div class="alerts-filters">
        <Segmented
          label="Alert state"
          options={STATES}
          value={state()}
          onChange={(v) => setParams({ state: v === "unresolved" ? undefined : v }, { replace: true })}
        />
        <Segmented
          label="Severity"
          options={SEVERITIES}
          value={severity()}
          onChange={(v) => setParams({ severity: v === "all" ? undefined : v }, { replace: true })}
        />
        <label class="alerts-filter">
          <span class="sr-only">Smart group</span>
          <select
            data-testid="alerts-group"
            value={groupId()}
            onChange={(e) => setParams({ groupId: e.currentTarget.value || undefined }, { replace: true })}
          >
            <option value="">All groups</option>
            <For each={groups.data() ?? []}>{(g) => <option value={g.id}>{g.name}</option>}</For>
          </select>
        </label>
        <label class="alerts-filter">
          <span class="sr-only">Tag</span>
          <select
            data-testid="alerts-tag"
            value={tag()}
            onChange={(e) => setParams({ tag: e.currentTarget.value || undefined }, { replace: true })}
          >
            <option value="">All tags</option>
            <For each={tags.data() ?? []}>{(t) => <option value={t.tag}>{t.tag}</option>}</For>
          </select>
        </label>
      </div>
      <p class="list-summary" aria-live="polite">
        <Show when={items()}>
          {`${total().n.toLocaleString("en")}${total().exact ? "" : "+"} alert${total().n === 1 && total().exact ? "" : "s"}`}
        </Show>
      </p>
      <Show when={error()}>
        <ErrorNote message={error()} onRetry={() => load()} />
      </Show>
      <section class="card" aria-label="Alerts">
        <Switch>
          <Match when={!items() && !error()}>
            <div class="section">
              <SkeletonLines count={5} height="20px" label="Loading alerts…" />
            </div>
          </Match>
          <Match when={items()?.length === 0}>
            <EmptyState
              title={state() === "unresolved" && !narrowed() ? "All clear" : "No alerts here"}
              icon={
                <svg class="empty-icon" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.6" aria-hidden="true">
                  <circle cx="12" cy="12" r="9" />
                  <path d="m8 12.5 2.7 2.7L16.5 9" />
                </svg>
              }
              actions={
                <A href="/devices" class="btn">
                  View devices
                </A>
              }
            >
              {state() === "unresolved" && !narrowed()
                ? "No device needs attention right now. Alerts appear here the moment a device goes offline or crosses a threshold."
                : "Nothing matches these filters. Try another state, severity, group or tag."}
            </EmptyState>
          </Match>
          <Match when={items()}>
            {(list) => (
              <ul class="alert-list">
                <For each={list()}>{(a) => <AlertItem alert={a} showDevice onChange={replace} />}</For>
              </ul>
            )}
          </Match>
        </Switch>
      </section>
      <Show when={cursor()}>
        <div class="load-more">
          <button type="button" class="btn" disabled={more()} onClick={loadMore}>
            {more() ? "Loading…" : "Load more alerts"}
          </button>
        </div>
      </Show>
    </div>
  );
}
