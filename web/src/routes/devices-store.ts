import { batch, createSignal, onCleanup } from "solid-js";
import { createStore, reconcile } from "solid-js/store";
import { api, call, errorMessage } from "../lib/api.ts";
import { onLive, onLiveOpen } from "../lib/live.ts";
import type { Device, DeviceCounts, DeviceSortField, DeviceStatus, OsName, SortOrder } from "../lib/types.ts";

/** The order a column sorts in when first picked: problems and busy devices first, names A–Z. */
export const DEFAULT_ORDER: Record<DeviceSortField, SortOrder> = {
  hostname: "asc",
  status: "asc",
  lastSeen: "asc",
  cpu: "desc",
  memory: "desc",
  disk: "desc",
};

/** Every sort the server offers, as the sort menu lists them (`field:order`). */
export const SORTS: readonly { field: DeviceSortField; order: SortOrder; label: string }[] = [
  { field: "hostname", order: "asc", label: "Hostname A–Z" },
  { field: "hostname", order: "desc", label: "Hostname Z–A" },
  { field: "status", order: "asc", label: "Status (problems first)" },
  { field: "status", order: "desc", label: "Status (online first)" },
  { field: "cpu", order: "desc", label: "CPU (highest first)" },
  { field: "cpu", order: "asc", label: "CPU (lowest first)" },
  { field: "memory", order: "desc", label: "RAM (highest first)" },
  { field: "memory", order: "asc", label: "RAM (lowest first)" },
  { field: "disk", order: "desc", label: "Disk (fullest first)" },
  { field: "disk", order: "asc", label: "Disk (emptiest first)" },
  { field: "lastSeen", order: "asc", label: "Last seen (oldest first)" },
  { field: "lastSeen", order: "desc", label: "Last seen (newest first)" },
];

export interface DeviceFilters {
  q: string;
  status: DeviceStatus | "";
  siteId: string;
  tag: string;
  os: OsName | "";
  /** A smart group's id: its members only. */
  groupId: string;
  sort: DeviceSortField;
  order: SortOrder;
}

const FIRST_PAGE = 100;
const MORE_PAGE = 250;
/** Loaded lists up to this size are refreshed in the background so the mini bars stay current. */
const SOFT_REFRESH_MAX = 500;
const SOFT_REFRESH_MS = 60_000;

/**
 * The device list of one view: server-side filters, sort and cursor paging, more pages as the
 * technician scrolls, live status from `/api/v1/live`.
 */
export function createDeviceList(filters: () => DeviceFilters) {
  const [state, setState] = createStore({
    rows: [] as Device[],
    total: 0,
    /** False when the server stopped counting at its cap: `total` is then a lower bound ("10,000+"). */
    totalExact: true,
    nextCursor: null as string | null,
    loading: true,
    /** A new search is on its way while the previous answer stays on screen. */
    refreshing: false,
    loadingMore: false,
    error: "",
  });
  const [counts, setCounts] = createSignal<DeviceCounts | null>(null);
  const byId = new Map<string, number>();
  let generation = 0;
  /**
   * Requests in flight: a newer search or filter aborts both (a stale answer costs neither the server
   * nor the screen); a next page never aborts a refresh.
   */
  let inflight: AbortController | undefined;
  let more: AbortController | undefined;
  const fresh = () => {
    inflight?.abort();
    more?.abort();
    inflight = new AbortController();
    return inflight.signal;
  };
  const nextPage = () => {
    more = new AbortController();
    return more.signal;
  };

  const query = (cursor: string | undefined, limit: number) => {
    const f = filters();
    return {
      limit,
      sort: f.sort,
      order: f.order,
      ...(cursor ? { cursor } : {}),
      ...(f.q.trim() ? { q: f.q.trim() } : {}),
      ...(f.status ? { status: f.status } : {}),
      ...(f.siteId ? { siteId: f.siteId } : {}),
      ...(f.tag.trim() ? { tag: f.tag.trim() } : {}),
      ...(f.os ? { os: f.os } : {}),
      ...(f.groupId ? { groupId: f.groupId } : {}),
    };
  };

  const reindex = () => {
    byId.clear();
    for (let i = 0; i < state.rows.length; i++) byId.set(state.rows[i]!.id, i);
  };

  /** Adds a page; rows already listed are skipped (a device whose CPU moved between pages can come round again). */
  const append = (items: Device[]) => {
    const added = items.filter((d) => !byId.has(d.id));
    const start = state.rows.length;
    setState("rows", (rows) => [...rows, ...added]);
    for (let i = 0; i < added.length; i++) byId.set(added[i]!.id, start + i);
  };

  /**
   * Starts over with the current filters and sort. `quiet` refreshes the rows in place (same filters);
   * `keep` leaves the previous answer on screen until the new one replaces it (search as you type).
   */
  async function reload(quiet = false, keep = false) {
    const gen = ++generation;
    const size = quiet ? Math.min(SOFT_REFRESH_MAX, Math.max(FIRST_PAGE, state.rows.length)) : FIRST_PAGE;
    if (keep && !state.loading) setState({ refreshing: true, loadingMore: false });
    else if (!quiet) setState({ loading: true, error: "", rows: [], nextCursor: null, loadingMore: false });
    try {
      const page = await call(api.api.v1.devices.get({ query: query(undefined, size), fetch: { signal: fresh() } }));
      if (gen !== generation) return;
      batch(() => {
        setState("rows", reconcile(page.items, { key: "id", merge: true }));
        setState({
          total: page.total,
          totalExact: page.totalExact,
          nextCursor: page.nextCursor,
          loading: false,
          refreshing: false,
          loadingMore: false,
          error: "",
        });
        reindex();
      });
    } catch (e) {
      if (gen === generation) setState({ loading: false, refreshing: false, loadingMore: false, error: errorMessage(e) });
    }
  }

  /** The next page, when the technician scrolls near the end. */
  async function loadMore() {
    if (!state.nextCursor || state.loadingMore || state.loading) return;
    const gen = generation;
    setState("loadingMore", true);
    try {
      const page = await call(api.api.v1.devices.get({ query: query(state.nextCursor, MORE_PAGE), fetch: { signal: nextPage() } }));
      if (gen !== generation) return;
      batch(() => {
        append(page.items);
        setState({ nextCursor: page.nextCursor, total: page.total, totalExact: page.totalExact });
      });
    } catch (e) {
      if (gen === generation) setState("error", errorMessage(e));
    } finally {
      if (gen === generation) setState("loadingMore", false);
    }
  }

  const loadCounts = () =>
    call(api.api.v1.devices.counts.get())
      .then(setCounts)
      .catch(() => {});

  onCleanup(
    onLive((e) => {
      if (e.type === "device.status") {
        const { deviceId, status, previous, at } = e.data;
        const i = byId.get(deviceId);
        if (i !== undefined) setState("rows", i, (d) => ({ ...d, status, ...(status === "online" ? { lastSeenAt: new Date(at) } : {}) }));
        setCounts((c) => (c ? { ...c, [previous]: Math.max(0, c[previous] - 1), [status]: c[status] + 1 } : c));
      } else if (e.type === "device.enrolled") {
        loadCounts();
        if (!state.nextCursor) reload(true);
      }
    }),
  );
  onCleanup(
    onLiveOpen(() => {
      loadCounts();
      if (state.rows.length <= SOFT_REFRESH_MAX) reload(true);
    }),
  );
  const refresher = setInterval(() => {
    if (document.visibilityState !== "visible" || state.loading || state.loadingMore) return;
    loadCounts();
    if (state.rows.length <= SOFT_REFRESH_MAX) reload(true);
  }, SOFT_REFRESH_MS);
  onCleanup(() => clearInterval(refresher));
  onCleanup(() => {
    inflight?.abort();
    more?.abort();
  });

  return { state, counts, reload, loadMore, loadCounts };
}
