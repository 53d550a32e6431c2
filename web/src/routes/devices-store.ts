import { batch, createMemo, createSignal, onCleanup } from "solid-js";
import { createStore, reconcile } from "solid-js/store";
import { api, call, errorMessage } from "../lib/api.ts";
import { onLive, onLiveOpen } from "../lib/live.ts";
import type { Device, DeviceCounts, DeviceStatus, OsName } from "../lib/types.ts";

export type SortKey = "hostname" | "-hostname" | "status" | "cpu" | "memory" | "disk" | "lastSeen";

export const SORTS: readonly { value: SortKey; label: string }[] = [
  { value: "hostname", label: "Hostname A–Z" },
  { value: "-hostname", label: "Hostname Z–A" },
  { value: "status", label: "Status (problems first)" },
  { value: "cpu", label: "CPU (highest first)" },
  { value: "memory", label: "RAM (highest first)" },
  { value: "disk", label: "Disk (fullest first)" },
  { value: "lastSeen", label: "Last seen (oldest first)" },
];

export interface DeviceFilters {
  q: string;
  status: DeviceStatus | "";
  siteId: string;
  tag: string;
  os: OsName | "";
  sort: SortKey;
}

const FIRST_PAGE = 100;
const MORE_PAGE = 250;
const ALL_PAGE = 500;
/** Loaded lists up to this size are refreshed in the background so the mini bars stay current. */
const SOFT_REFRESH_MAX = 500;
const SOFT_REFRESH_MS = 60_000;

const STATUS_RANK: Record<DeviceStatus, number> = { offline: 0, unresponsive: 1, online: 2 };
const time = (d: Date | string | null) => (d ? new Date(d).getTime() : 0);

function comparator(sort: SortKey): ((a: Device, b: Device) => number) | null {
  switch (sort) {
    case "hostname":
      return null;
    case "-hostname":
      return (a, b) => b.hostname.localeCompare(a.hostname);
    case "status":
      return (a, b) => STATUS_RANK[a.status] - STATUS_RANK[b.status] || a.hostname.localeCompare(b.hostname);
    case "cpu":
      return (a, b) => (b.telemetry?.cpuPercent ?? -1) - (a.telemetry?.cpuPercent ?? -1);
    case "memory":
      return (a, b) => (b.telemetry?.memoryPercent ?? -1) - (a.telemetry?.memoryPercent ?? -1);
    case "disk":
      return (a, b) => (b.telemetry?.diskPercent ?? -1) - (a.telemetry?.diskPercent ?? -1);
    case "lastSeen":
      return (a, b) => time(a.lastSeenAt) - time(b.lastSeenAt);
  }
}

/** Sites and tags seen so far, for the filter menus (the API has no site list yet). */
const knownSites = new Map<string, string>();
const [siteVersion, setSiteVersion] = createSignal(0);

export function siteOptions(): { id: string; label: string }[] {
  siteVersion();
  return [...knownSites].map(([id, label]) => ({ id, label })).sort((a, b) => a.label.localeCompare(b.label));
}

/**
 * The device list of one view: server-side filters and cursor paging (hostname order), more pages
 * as the technician scrolls, every page when sorting by another column, live status from `/api/v1/live`.
 */
export function createDeviceList(filters: () => DeviceFilters) {
  const [state, setState] = createStore({
    rows: [] as Device[],
    total: 0,
    nextCursor: null as string | null,
    loading: true,
    loadingMore: false,
    loadingAll: false,
    error: "",
  });
  const [counts, setCounts] = createSignal<DeviceCounts | null>(null);
  const [tags, setTags] = createSignal<string[]>([]);
  const byId = new Map<string, number>();
  let generation = 0;

  const query = (cursor: string | undefined, limit: number) => {
    const f = filters();
    return {
      limit,
      ...(cursor ? { cursor } : {}),
      ...(f.q.trim() ? { q: f.q.trim() } : {}),
      ...(f.status ? { status: f.status } : {}),
      ...(f.siteId ? { siteId: f.siteId } : {}),
      ...(f.tag.trim() ? { tag: f.tag.trim() } : {}),
      ...(f.os ? { os: f.os } : {}),
    };
  };

  const remember = (items: Device[]) => {
    let added = false;
    const tagSet = new Set(tags());
    for (const d of items) {
      if (!knownSites.has(d.siteId)) {
        knownSites.set(d.siteId, d.clientName === d.siteName ? d.siteName : `${d.clientName} / ${d.siteName}`);
        added = true;
      }
      for (const t of d.tags) tagSet.add(t);
    }
    if (added) setSiteVersion((n) => n + 1);
    if (tagSet.size !== tags().length) setTags([...tagSet].sort().slice(0, 500));
  };

  const reindex = () => {
    byId.clear();
    for (let i = 0; i < state.rows.length; i++) byId.set(state.rows[i]!.id, i);
  };

  const append = (items: Device[]) => {
    const start = state.rows.length;
    setState("rows", (rows) => [...rows, ...items]);
    for (let i = 0; i < items.length; i++) byId.set(items[i]!.id, start + i);
    remember(items);
  };

  /** Fetches every remaining page (for client-side sorts), 500 at a time. */
  async function loadAll(gen: number) {
    setState("loadingAll", true);
    try {
      while (state.nextCursor && gen === generation) {
        const page = await call(api.api.v1.devices.get({ query: query(state.nextCursor, ALL_PAGE) }));
        if (gen !== generation) return;
        batch(() => {
          append(page.items);
          setState({ nextCursor: page.nextCursor, total: page.total });
        });
      }
    } catch (e) {
      if (gen === generation) setState("error", errorMessage(e));
    } finally {
      if (gen === generation) setState("loadingAll", false);
    }
  }

  /** Starts over with the current filters. `quiet` keeps the rows on screen while refreshing. */
  async function reload(quiet = false) {
    const gen = ++generation;
    const keep = quiet ? Math.min(ALL_PAGE, Math.max(FIRST_PAGE, state.rows.length)) : FIRST_PAGE;
    if (!quiet) setState({ loading: true, error: "", rows: [], nextCursor: null, loadingMore: false, loadingAll: false });
    try {
      const page = await call(api.api.v1.devices.get({ query: query(undefined, keep) }));
      if (gen !== generation) return;
      batch(() => {
        setState("rows", reconcile(page.items, { key: "id", merge: true }));
        setState({ total: page.total, nextCursor: page.nextCursor, loading: false, error: "" });
        reindex();
        remember(page.items);
      });
      if (comparator(filters().sort) && page.nextCursor) await loadAll(gen);
    } catch (e) {
      if (gen === generation) setState({ loading: false, error: errorMessage(e) });
    }
  }

  /** The next page, when the technician scrolls near the end. */
  async function loadMore() {
    if (!state.nextCursor || state.loadingMore || state.loading || state.loadingAll) return;
    const gen = generation;
    setState("loadingMore", true);
    try {
      const page = await call(api.api.v1.devices.get({ query: query(state.nextCursor, MORE_PAGE) }));
      if (gen !== generation) return;
      batch(() => {
        append(page.items);
        setState({ nextCursor: page.nextCursor, total: page.total });
      });
    } catch (e) {
      if (gen === generation) setState("error", errorMessage(e));
    } finally {
      if (gen === generation) setState("loadingMore", false);
    }
  }

  /** Loads the remaining pages when the current sort needs them. */
  function ensureAll() {
    if (comparator(filters().sort) && state.nextCursor && !state.loadingAll && !state.loading) loadAll(generation);
  }

  const loadCounts = () =>
    call(api.api.v1.devices.counts.get())
      .then(setCounts)
      .catch(() => {});

  /** Rows in display order: the server's hostname order, or sorted here once every page is in. */
  const view = createMemo(() => {
    const cmp = comparator(filters().sort);
    return cmp ? [...state.rows].sort(cmp) : state.rows;
  });

  onCleanup(
    onLive((e) => {
      if (e.type === "device.status") {
        const i = byId.get(e.deviceId);
        if (i !== undefined)
          setState("rows", i, (d) => ({ ...d, status: e.status, ...(e.status === "online" ? { lastSeenAt: new Date(e.at) } : {}) }));
        setCounts((c) => (c ? { ...c, [e.previous]: Math.max(0, c[e.previous] - 1), [e.status]: c[e.status] + 1 } : c));
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
    if (document.visibilityState !== "visible" || state.loading || state.loadingAll || state.loadingMore) return;
    loadCounts();
    if (state.rows.length <= SOFT_REFRESH_MAX) reload(true);
  }, SOFT_REFRESH_MS);
  onCleanup(() => clearInterval(refresher));

  return { state, view, counts, tags, reload, loadMore, loadCounts, ensureAll };
}
