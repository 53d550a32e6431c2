import { useSearchParams } from "@solidjs/router";
import { For, Match, Show, Switch, createEffect, createSignal, on } from "solid-js";
import { EmptyState } from "../components/EmptyState.tsx";
import { ErrorNote } from "../components/ErrorNote.tsx";
import { SkeletonLines } from "../components/Skeleton.tsx";
import { api, call, errorMessage } from "../lib/api.ts";
import { dateTime } from "../lib/format.ts";
import type { AuditEntry } from "../lib/types.ts";
import "./audit.css";

const PAGE = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ACTOR_LABEL: Record<AuditEntry["actorType"], string> = {
  user: "user",
  api_key: "API key",
  agent: "agent",
  system: "system",
  rule: "rule",
  workflow: "workflow",
  schedule: "schedule",
};

type Filters = { actor?: string; action?: string; target?: string; from?: string; to?: string };

/** A `datetime-local` value (the browser's local time) as an ISO time, or nothing. */
const iso = (local: string | undefined) => (local && !Number.isNaN(Date.parse(local)) ? new Date(local).toISOString() : undefined);

/** The API's filters for the page's: a target that is a UUID is a target id, anything else a target type. */
function apiFilters(f: Filters) {
  const target = f.target?.trim();
  return {
    ...(f.actor?.trim() ? { actor: f.actor.trim() } : {}),
    ...(f.action?.trim() ? { action: f.action.trim() } : {}),
    ...(target ? (UUID.test(target) ? { targetId: target } : { targetType: target }) : {}),
    ...(iso(f.from) ? { from: iso(f.from) } : {}),
    ...(iso(f.to) ? { to: iso(f.to) } : {}),
  };
}

/** A short line for an entry's details: the changed fields with before → after, else the details themselves. */
function detailText(details: Record<string, unknown>): string {
  const changes = details.changes as Record<string, { before: unknown; after: unknown }> | undefined;
  const show = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
  if (changes && Object.keys(changes).length > 0)
    return Object.entries(changes)
      .map(([field, c]) => `${field}: ${show(c.before)} → ${show(c.after)}`)
      .join("; ");
  const text = Object.keys(details).length > 0 ? JSON.stringify(details) : "";
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

/** The audit log of the organization (admins): who did what to what, when and from where; filters, paging, CSV download. */
export default function Audit() {
  document.title = "Audit log · SENTpulse";
  const [params, setParams] = useSearchParams<Filters>();
  const [items, setItems] = createSignal<AuditEntry[] | null>(null);
  const [total, setTotal] = createSignal({ n: 0, exact: true });
  const [cursor, setCursor] = createSignal<string | null>(null);
  const [error, setError] = createSignal("");
  const [more, setMore] = createSignal(false);
  let gen = 0;

  const filters = () => apiFilters({ actor: params.actor, action: params.action, target: params.target, from: params.from, to: params.to });
  /** The CSV download: a plain link to the API with the same filters (the session cookie rides along). */
  const csvHref = () => `/api/v1/audit?${new URLSearchParams({ ...filters(), format: "csv" })}`;

  async function load() {
    const g = ++gen;
    setItems(null);
    setError("");
    try {
      const page = await call(api.api.v1.audit.get({ query: { ...filters(), limit: PAGE } }));
      if (g !== gen) return;
      setItems(page.items);
      setTotal({ n: page.total, exact: page.totalExact });
      setCursor(page.nextCursor);
    } catch (e) {
      if (g === gen) setError(errorMessage(e));
    }
  }

  async function loadMore() {
    const c = cursor();
    if (!c) return;
    setMore(true);
    try {
      const page = await call(api.api.v1.audit.get({ query: { ...filters(), limit: PAGE, cursor: c } }));
      setItems([...(items() ?? []), ...page.items]);
      setCursor(page.nextCursor);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setMore(false);
    }
  }

  createEffect(on(filters, () => load()));

  const apply = (e: SubmitEvent) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const value = (name: string) => String(form.get(name) ?? "").trim() || undefined;
    setParams(
      { actor: value("actor"), action: value("action"), target: value("target"), from: value("from"), to: value("to") },
      { replace: true },
    );
  };
  const clear = () =>
    setParams({ actor: undefined, action: undefined, target: undefined, from: undefined, to: undefined }, { replace: true });

  return (
    <div class="audit-page">
      <div class="page-head">
        <div>
          <h1>Audit log</h1>
          <p>Every change in your organization: who made it, to what, when and from where. Entries cannot be edited or removed.</p>
        </div>
        <a class="btn" href={csvHref()} download="" data-testid="audit-csv">
          Download CSV
        </a>
      </div>
      <form class="card audit-filters" onSubmit={apply} aria-label="Filter the audit log">
        <div class="field grow">
          <label for="a-actor">Actor</label>
          <input id="a-actor" name="actor" value={params.actor ?? ""} placeholder="e-mail, key name or id" />
        </div>
        <div class="field">
          <label for="a-action">Action</label>
          <input id="a-action" name="action" value={params.action ?? ""} placeholder="script.updated or command." />
        </div>
        <div class="field">
          <label for="a-target">Target</label>
          <input id="a-target" name="target" value={params.target ?? ""} placeholder="type (device) or id" />
        </div>
        <div class="field">
          <label for="a-from">From</label>
          <input id="a-from" name="from" type="datetime-local" value={params.from ?? ""} />
        </div>
        <div class="field">
          <label for="a-to">To</label>
          <input id="a-to" name="to" type="datetime-local" value={params.to ?? ""} />
        </div>
        <div class="audit-filter-actions">
          <button type="submit" class="btn btn-primary" data-testid="audit-apply">
            Apply
          </button>
          <button type="button" class="btn" onClick={clear}>
            Clear
          </button>
        </div>
      </form>
      <p class="list-summary" aria-live="polite">
        <Show when={items()}>
          {`${total().n.toLocaleString("en")}${total().exact ? "" : "+"} entr${total().n === 1 && total().exact ? "y" : "ies"}`}
        </Show>
      </p>
      <Show when={error()}>
        <ErrorNote message={error()} onRetry={load} />
      </Show>
      <section class="card" aria-label="Audit entries">
        <Switch>
          <Match when={!items() && !error()}>
            <div class="section">
              <SkeletonLines count={6} height="20px" label="Loading the audit log…" />
            </div>
          </Match>
          <Match when={items()?.length === 0}>
            <EmptyState title="No entries">Nothing matches these filters. Widen the time range or clear the filters.</EmptyState>
          </Match>
          <Match when={items()}>
            {(list) => (
              <div class="table-wrap">
                <table class="table audit-table">
                  <thead>
                    <tr>
                      <th scope="col">Time</th>
                      <th scope="col">Actor</th>
                      <th scope="col">Action</th>
                      <th scope="col">Target</th>
                      <th scope="col">Source</th>
                      <th scope="col">Details</th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={list()}>
                      {(e) => (
                        <tr data-testid="audit-row">
                          <td class="nowrap">{dateTime(e.createdAt)}</td>
                          <td>
                            <span class="audit-actor">{e.actorName ?? e.actorId ?? "—"}</span>{" "}
                            <span class="pill">{ACTOR_LABEL[e.actorType]}</span>
                          </td>
                          <td class="mono">{e.action}</td>
                          <td>
                            <Show when={e.targetType} fallback={<span class="muted">—</span>}>
                              {e.targetType}
                              <Show when={e.targetId}>
                                {(id) => (
                                  <span class="mono muted" title={id()}>
                                    {" "}
                                    {id().slice(0, 8)}
                                  </span>
                                )}
                              </Show>
                            </Show>
                          </td>
                          <td class="mono">{e.ip ?? <span class="muted">—</span>}</td>
                          <td class="audit-details">{detailText(e.details)}</td>
                        </tr>
                      )}
                    </For>
                  </tbody>
                </table>
              </div>
            )}
          </Match>
        </Switch>
      </section>
      <Show when={cursor()}>
        <div class="load-more">
          <button type="button" class="btn" disabled={more()} onClick={loadMore}>
            {more() ? "Loading…" : "Load more entries"}
          </button>
        </div>
      </Show>
    </div>
  );
}
