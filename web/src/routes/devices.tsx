import { A, useSearchParams } from "@solidjs/router";
import { For, Match, Show, Switch, createEffect, createMemo, createSignal, on, onCleanup, untrack } from "solid-js";
import { DeviceCells, DeviceHead } from "../components/DeviceRow.tsx";
import { EmptyState } from "../components/EmptyState.tsx";
import { ErrorNote } from "../components/ErrorNote.tsx";
import { Skeleton } from "../components/Skeleton.tsx";
import { VirtualTable } from "../components/VirtualTable.tsx";
import { createGroups, createSites, createTags, siteLabel } from "../lib/fleet.ts";
import type { DeviceSortField, DeviceStatus, OsName, SortOrder } from "../lib/types.ts";
import { DEFAULT_ORDER, type DeviceFilters, SORTS, createDeviceList } from "./devices-store.ts";
import "./devices.css";

const ROW_HEIGHT = 58;
/** Keys typed in the same moment (a paste, autofill) share one request; each typed key gets its own. */
const SEARCH_DEBOUNCE_MS = 0;
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

type Params = { q?: string; status?: string; siteId?: string; tag?: string; os?: string; groupId?: string; sort?: string; order?: string };

/** The fleet at a glance: counts per status, filters, and a virtualised list that pages as you scroll. */
export default function Devices() {
  document.title = "Devices · SENTpulse";
  const [params, setParams] = useSearchParams<Params>();
  const filters = createMemo<DeviceFilters>(() => {
    const sort = params.sort && Object.hasOwn(DEFAULT_ORDER, params.sort) ? (params.sort as DeviceSortField) : "hostname";
    return {
      q: params.q ?? "",
      status: STATUSES.some((s) => s.value === params.status) ? (params.status as DeviceStatus) : "",
      siteId: params.siteId ?? "",
      tag: params.tag ?? "",
      os: OSES.some((o) => o.value === params.os) ? (params.os as OsName) : "",
      groupId: params.groupId ?? "",
      sort,
      order: params.order === "asc" || params.order === "desc" ? params.order : DEFAULT_ORDER[sort],
    };
  });
  const list = createDeviceList(filters);
  // The filter menus load once the first page is on screen: at fleet scale their figures (devices
  // per site, tags in use, group sizes) are counted over every device and would compete with it.
  const [menus, setMenus] = createSignal<{
    sites: ReturnType<typeof createSites>;
    tags: ReturnType<typeof createTags>;
    groups: ReturnType<typeof createGroups>;
  }>();
  createEffect(() => {
    if (!list.state.loading && !untrack(menus)) setMenus({ sites: createSites(), tags: createTags(), groups: createGroups() });
  });
  const sites = { data: () => menus()?.sites.data() ?? null };
  const tags = { data: () => menus()?.tags.data() ?? null };
  const groups = { data: () => menus()?.groups.data() ?? null };
  const filtered = () => {
    const f = filters();
    return !!(f.q || f.status || f.siteId || f.tag || f.os || f.groupId);
  };

  // Filters and sort are applied by the server: refetch from the first page when one changes (the search box is debounced below).
  // A new search keeps the previous answer on screen until its own arrives (no skeleton flash per key).
  createEffect(
    on(
      () => JSON.stringify(filters()),
      (now, before) => {
        const onlySearch = before !== undefined && JSON.stringify({ ...JSON.parse(before), q: filters().q }) === now;
        list.reload(false, onlySearch);
      },
    ),
  );
  list.loadCounts();

  const [search, setSearch] = createSignal(params.q ?? "");
  let debounce: ReturnType<typeof setTimeout> | undefined;
  const onSearch = (v: string) => {
    setSearch(v);
    clearTimeout(debounce);
    // a short pause only coalesces a burst of keys; a newer search aborts the older request (devices-store)
    debounce = setTimeout(() => setParams({ q: v.trim() || undefined }, { replace: true }), SEARCH_DEBOUNCE_MS);
  };
  onCleanup(() => clearTimeout(debounce));
  const set = (key: keyof Params, value: string) => setParams({ [key]: value || undefined }, { replace: true });
  const clear = () => {
    setSearch("");
    setParams({ q: undefined, status: undefined, siteId: undefined, tag: undefined, os: undefined, groupId: undefined }, { replace: true });
  };

  /** Sorts by `field`; the order is left out of the URL when it is that column's usual one. */
  const setSort = (field: DeviceSortField, order: SortOrder) =>
    setParams(
      { sort: field === "hostname" ? undefined : field, order: order === DEFAULT_ORDER[field] ? undefined : order },
      { replace: true },
    );
  /** A header click: sort by that column, or flip the order when it is already the sort. */
  const onSort = (field: DeviceSortField) => {
    const f = filters();
    setSort(field, f.sort === field ? (f.order === "asc" ? "desc" : "asc") : DEFAULT_ORDER[field]);
  };
  const sortValue = () => `${filters().sort}:${filters().order}`;

  const onRange = (_start: number, end: number) => {
    if (end >= list.state.rows.length - 30) list.loadMore();
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
            <Show when={filters().siteId && !sites.data()?.some((s) => s.id === filters().siteId)}>
              <option value={filters().siteId} selected>
                {sites.data() ? "Unknown site" : "Loading sites…"}
              </option>
            </Show>
            <For each={sites.data()}>
              {(s) => (
                <option value={s.id} selected={filters().siteId === s.id}>
                  {siteLabel(s)} ({nf.format(s.deviceCount)})
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
            <For each={tags.data()}>
              {(t) => <option value={t.tag}>{`${nf.format(t.devices)} device${t.devices === 1 ? "" : "s"}`}</option>}
            </For>
          </datalist>
        </div>
        <div class="field">
          <label for="f-group">Group</label>
          <select id="f-group" onChange={(e) => set("groupId", e.currentTarget.value)}>
            <option value="" selected={!filters().groupId}>
              Any group
            </option>
            <Show when={filters().groupId && !groups.data()?.some((g) => g.id === filters().groupId)}>
              <option value={filters().groupId} selected>
                {groups.data() ? "Unknown group" : "Loading groups…"}
              </option>
            </Show>
            <For each={groups.data()}>
              {(g) => (
                <option value={g.id} selected={filters().groupId === g.id}>
                  {g.name} ({nf.format(g.memberCount)})
                </option>
              )}
            </For>
          </select>
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
          <select
            id="f-sort"
            onChange={(e) => {
              const [field, order] = e.currentTarget.value.split(":") as [DeviceSortField, SortOrder];
              setSort(field, order);
            }}
          >
            <For each={SORTS}>
              {(s) => (
                <option value={`${s.field}:${s.order}`} selected={sortValue() === `${s.field}:${s.order}`}>
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
          Showing {nf.format(list.state.rows.length)} of {nf.format(list.state.total)}
          {list.state.totalExact ? "" : "+"} device{list.state.total === 1 ? "" : "s"}
          <Show when={list.state.nextCursor}> · scroll for more</Show>
        </Show>
      </p>

      <Show when={list.state.error}>
        <ErrorNote message={list.state.error} onRetry={() => list.reload()} />
      </Show>

      <div class="device-table card" aria-busy={list.state.loading || list.state.refreshing}>
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
          <Match when={list.state.rows.length === 0 && !filtered() && !list.state.error}>
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
          <Match when={list.state.rows.length === 0 && !list.state.error}>
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
          <Match when={list.state.rows.length > 0}>
            <VirtualTable
              count={list.state.rows.length}
              total={list.state.totalExact ? list.state.total : undefined}
              rowHeight={ROW_HEIGHT}
              caption="Devices"
              rowTestId="device-row"
              onRange={onRange}
              class="device-rows"
              head={<DeviceHead sort={{ field: filters().sort, order: filters().order }} onSort={onSort} />}
            >
              {(i) => <Show when={list.state.rows[i]}>{(d) => <DeviceCells device={d()} />}</Show>}
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
