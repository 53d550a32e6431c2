import { A, useSearchParams } from "@solidjs/router";
import { For, Match, Show, Switch, createEffect, createMemo, createSignal, on, onCleanup } from "solid-js";
import { DeviceCells, DeviceHead } from "../components/DeviceRow.tsx";
import { EmptyState } from "../components/EmptyState.tsx";
import { ErrorNote } from "../components/ErrorNote.tsx";
import { Skeleton } from "../components/Skeleton.tsx";
import { VirtualTable } from "../components/VirtualTable.tsx";
import type { DeviceStatus, OsName } from "../lib/types.ts";
import { type DeviceFilters, SORTS, type SortKey, createDeviceList, siteOptions } from "./devices-store.ts";
import "./devices.css";

const ROW_HEIGHT = 58;
const STATUSES: readonly { value: DeviceStatus; label: string }[] = [
  { value: "online", label: "Online" },
  { value: "unresponsive", label: "Unresponsive" },
  { value: "offline", label: "Offline" },
];
const OSES: readonly { value: OsName; label: string }[] = [
  { value: "linux", label: "Linux" },
  { value: "windows", label: "Windows" },
  { value: "darwin", label: "macOS" },
];
const nf = new Intl.NumberFormat();

type Params = { q?: string; status?: string; siteId?: string; tag?: string; os?: string; sort?: string };

/** The fleet at a glance: counts per status, filters, and a virtualised list that pages as you scroll. */
export default function Devices() {
  document.title = "Devices · SENTpulse";
  const [params, setParams] = useSearchParams<Params>();
  const filters = createMemo<DeviceFilters>(() => ({
    q: params.q ?? "",
    status: STATUSES.some((s) => s.value === params.status) ? (params.status as DeviceStatus) : "",
    siteId: params.siteId ?? "",
    tag: params.tag ?? "",
    os: OSES.some((o) => o.value === params.os) ? (params.os as OsName) : "",
    sort: SORTS.some((s) => s.value === params.sort) ? (params.sort as SortKey) : "hostname",
  }));
  const list = createDeviceList(filters);
  const filtered = () => {
    const f = filters();
    return !!(f.q || f.status || f.siteId || f.tag || f.os);
  };

  // Refetch when a server-side filter changes (the search box is debounced below).
  createEffect(
    on(
      () => {
        const { sort: _sort, ...server } = filters();
        return JSON.stringify(server);
      },
      () => list.reload(),
    ),
  );
  // Sorting by anything but hostname needs every page; a sort change alone refetches nothing else.
  createEffect(
    on(
      () => filters().sort,
      () => list.ensureAll(),
      { defer: true },
    ),
  );
  list.loadCounts();

  const [search, setSearch] = createSignal(params.q ?? "");
  let debounce: ReturnType<typeof setTimeout> | undefined;
  const onSearch = (v: string) => {
    setSearch(v);
    clearTimeout(debounce);
    debounce = setTimeout(() => setParams({ q: v.trim() || undefined }, { replace: true }), 250);
  };
  onCleanup(() => clearTimeout(debounce));
  const set = (key: keyof Params, value: string) => setParams({ [key]: value || undefined }, { replace: true });
  const clear = () => {
    setSearch("");
    setParams({ q: undefined, status: undefined, siteId: undefined, tag: undefined, os: undefined }, { replace: true });
  };

  const onRange = (_start: number, end: number) => {
    if (end >= list.view().length - 30) list.loadMore();
  };

  const totalDevices = () => {
    const c = list.counts();
    return c ? c.online + c.unresponsive + c.offline : null;
  };

  return (
    <div class="devices-page">
      <div class="page-head">
        <div>
          <h1>Devices</h1>
          <p>Every endpoint with its pulse. Select a device for live charts and details.</p>
        </div>
        <A href="/add-device" class="btn btn-primary">
          Add device
        </A>
      </div>

      <fieldset class="counts">
        <legend class="sr-only">Devices per status (select one to filter)</legend>
        <button type="button" class="count-card" aria-pressed={!filters().status} onClick={() => set("status", "")}>
          <span class="count-label">All devices</span>
          <span class="count-value">
            {totalDevices() == null ? <Skeleton width="40px" height="24px" /> : nf.format(totalDevices() ?? 0)}
          </span>
        </button>
        <For each={STATUSES}>
          {(s) => (
            <button
              type="button"
              class={`count-card count-${s.value}`}
              aria-pressed={filters().status === s.value}
              onClick={() => set("status", filters().status === s.value ? "" : s.value)}
            >
              <span class="count-label">
                <span class={`dot dot-${s.value}`} aria-hidden="true" />
                {s.label}
              </span>
              <span class="count-value" data-testid={`count-${s.value}`}>
                {list.counts() ? nf.format(list.counts()?.[s.value] ?? 0) : <Skeleton width="40px" height="24px" />}
              </span>
            </button>
          )}
        </For>
      </fieldset>

      <form class="filters card" aria-label="Filter devices" onSubmit={(e) => e.preventDefault()}>
        <div class="field grow">
          <label for="f-q">Search</label>
          <input
            id="f-q"
            type="search"
            placeholder="Hostname, OS, serial or tag"
            value={search()}
            onInput={(e) => onSearch(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="f-status">Status</label>
          <select id="f-status" onChange={(e) => set("status", e.currentTarget.value)}>
            <option value="" selected={!filters().status}>
              Any status
            </option>
            <For each={STATUSES}>
              {(s) => (
                <option value={s.value} selected={filters().status === s.value}>
                  {s.label}
                </option>
              )}
            </For>
          </select>
        </div>
        <div class="field">
          <label for="f-site">Site</label>
          <select id="f-site" onChange={(e) => set("siteId", e.currentTarget.value)}>
            <option value="" selected={!filters().siteId}>
              Any site
            </option>
            <Show when={filters().siteId && !siteOptions().some((s) => s.id === filters().siteId)}>
              <option value={filters().siteId} selected>
                Selected site
              </option>
            </Show>
            <For each={siteOptions()}>
              {(s) => (
                <option value={s.id} selected={filters().siteId === s.id}>
                  {s.label}
                </option>
              )}
            </For>
          </select>
        </div>
        <div class="field">
          <label for="f-tag">Tag</label>
          <input
            id="f-tag"
            list="f-tag-list"
            placeholder="env=prod"
            value={filters().tag}
            onChange={(e) => set("tag", e.currentTarget.value.trim())}
          />
          <datalist id="f-tag-list">
            <For each={list.tags()}>{(t) => <option value={t} />}</For>
          </datalist>
        </div>
        <div class="field">
          <label for="f-os">OS</label>
          <select id="f-os" onChange={(e) => set("os", e.currentTarget.value)}>
            <option value="" selected={!filters().os}>
              Any OS
            </option>
            <For each={OSES}>
              {(o) => (
                <option value={o.value} selected={filters().os === o.value}>
                  {o.label}
                </option>
              )}
            </For>
          </select>
        </div>
        <div class="field">
          <label for="f-sort">Sort</label>
          <select id="f-sort" onChange={(e) => set("sort", e.currentTarget.value === "hostname" ? "" : e.currentTarget.value)}>
            <For each={SORTS}>
              {(s) => (
                <option value={s.value} selected={filters().sort === s.value}>
                  {s.label}
                </option>
              )}
            </For>
          </select>
        </div>
        <Show when={filtered()}>
          <button type="button" class="btn btn-ghost clear-btn" onClick={clear}>
            Clear filters
          </button>
        </Show>
      </form>

      <p class="list-summary" aria-live="polite">
        <Show when={!list.state.loading}>
          Showing {nf.format(list.view().length)} of {nf.format(list.state.total)} device{list.state.total === 1 ? "" : "s"}
          <Show when={list.state.loadingAll}>
            {" "}
            · loading every page to sort ({Math.round((list.state.rows.length / Math.max(1, list.state.total)) * 100)} %)
          </Show>
          <Show when={list.state.nextCursor && !list.state.loadingAll}> · scroll for more</Show>
        </Show>
      </p>

      <Show when={list.state.error}>
        <ErrorNote message={list.state.error} onRetry={() => list.reload()} />
      </Show>

      <div class="device-table card" aria-busy={list.state.loading}>
        <Switch>
          <Match when={list.state.loading}>
            <div class="device-skeleton" aria-hidden="true">
              <For each={Array.from({ length: 8 }, (_, i) => i)}>
                {() => (
                  <div class="skeleton-row">
                    <Skeleton width="84px" height="20px" />
                    <Skeleton width="60%" height="14px" />
                    <Skeleton width="70%" height="10px" />
                  </div>
                )}
              </For>
            </div>
          </Match>
          <Match when={list.view().length === 0 && !filtered() && !list.state.error}>
            <EmptyState
              title="No devices yet"
              actions={
                <A href="/add-device" class="btn btn-primary">
                  Add your first device
                </A>
              }
            >
              Create an enrollment token and run the one-line installer on a machine. It shows up here within seconds.
            </EmptyState>
          </Match>
          <Match when={list.view().length === 0 && !list.state.error}>
            <EmptyState
              title="No devices match these filters"
              actions={
                <button type="button" class="btn" onClick={clear}>
                  Clear filters
                </button>
              }
            >
              Try another search, or clear the filters to see the whole fleet.
            </EmptyState>
          </Match>
          <Match when={list.view().length > 0}>
            <VirtualTable
              count={list.view().length}
              total={list.state.total}
              rowHeight={ROW_HEIGHT}
              caption="Devices"
              rowTestId="device-row"
              onRange={onRange}
              class="device-rows"
              head={<DeviceHead sort={filters().sort} />}
            >
              {(i) => <Show when={list.view()[i]}>{(d) => <DeviceCells device={d()} />}</Show>}
            </VirtualTable>
          </Match>
        </Switch>
        <Show when={list.state.loadingMore}>
          <div class="loading-more" role="status">
            Loading more devices…
          </div>
        </Show>
      </div>
    </div>
  );
}
