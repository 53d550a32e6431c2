import { For, Show } from "solid-js";
import type { Device, DeviceSortField, SortOrder } from "../lib/types.ts";
import { MiniBar } from "./MiniBar.tsx";
import { OsIcon } from "./OsIcon.tsx";
import { QuickActions } from "./QuickActions.tsx";
import { RelativeTime } from "./RelativeTime.tsx";
import { StatusBadge } from "./StatusBadge.tsx";

const MAX_TAGS = 2;

/** The cells of one device in the fleet list (the <tr> itself belongs to VirtualTable). */
export function DeviceCells(props: { device: Device }) {
  const d = () => props.device;
  const site = () => (d().clientName === d().siteName ? d().siteName : `${d().clientName} / ${d().siteName}`);
  return (
    <>
      <td class="c-status">
        <StatusBadge status={d().status} />
      </td>
      <td class="c-host">
        <div class="host-cell">
          <OsIcon os={d().os} />
          <div class="host-text">
            {/* A plain link (the router still handles the click): cheaper than <A> in a list that re-renders as it scrolls. */}
            <a href={`/devices/${d().id}`} class="host-link" data-testid="device-link">
              {d().hostname}
            </a>
            <span class="host-sub">
              {d().osName} {d().osVersion}
              <span class="site-inline"> · {site()}</span>
            </span>
          </div>
        </div>
      </td>
      <td class="c-site" title={site()}>
        {site()}
      </td>
      <td class="c-tags">
        <div class="tags">
          <For each={d().tags.slice(0, MAX_TAGS)}>{(t) => <span class="tag">{t}</span>}</For>
          <Show when={d().tags.length > MAX_TAGS}>
            <span class="tag" title={d().tags.slice(MAX_TAGS).join(", ")}>
              +{d().tags.length - MAX_TAGS}
            </span>
          </Show>
        </div>
      </td>
      <td class="c-bar c-cpu">
        <MiniBar label="CPU" value={d().telemetry?.cpuPercent} compact />
      </td>
      <td class="c-bar c-ram">
        <MiniBar label="RAM" value={d().telemetry?.memoryPercent} compact />
      </td>
      <td class="c-bar c-disk">
        <MiniBar label="Disk" value={d().telemetry?.diskPercent} compact />
      </td>
      <td class="c-seen">
        <RelativeTime value={d().lastSeenAt} />
      </td>
      <td class="c-actions">
        <div class="actions-cell">
          <QuickActions hostname={d().hostname} deviceId={d().id} />
        </div>
      </td>
    </>
  );
}

/** A column header that sorts the list (on the server) when clicked; aria-sort tells which way. */
function SortHeader(props: {
  field: DeviceSortField;
  class: string;
  label: string;
  sort: { field: string; order: SortOrder };
  onSort: (field: DeviceSortField) => void;
}) {
  const active = () => props.sort.field === props.field;
  return (
    <th
      scope="col"
      class={`${props.class} sortable`}
      aria-sort={active() ? (props.sort.order === "asc" ? "ascending" : "descending") : undefined}
    >
      <button type="button" class="sort-btn" onClick={() => props.onSort(props.field)} data-active={active() ? "true" : undefined}>
        {props.label}
        <span class="sort-arrow" aria-hidden="true">
          {active() ? (props.sort.order === "asc" ? "▲" : "▼") : "↕"}
        </span>
      </button>
    </th>
  );
}

/** The header row of the fleet list: sortable columns follow the chosen sort; clicking one sorts by it or flips it. */
export function DeviceHead(props: { sort: { field: string; order: SortOrder }; onSort: (field: DeviceSortField) => void }) {
  const h = (field: DeviceSortField, cls: string, label: string) => (
    <SortHeader field={field} class={cls} label={label} sort={props.sort} onSort={props.onSort} />
  );
  return (
    <tr>
      {h("status", "c-status", "Status")}
      {h("hostname", "c-host", "Device")}
      <th scope="col" class="c-site">
        Site
      </th>
      <th scope="col" class="c-tags">
        Tags
      </th>
      {h("cpu", "c-bar c-cpu", "CPU")}
      {h("memory", "c-bar c-ram", "RAM")}
      {h("disk", "c-bar c-disk", "Disk")}
      {h("lastSeen", "c-seen", "Last seen")}
      <th scope="col" class="c-actions">
        <span class="sr-only">Actions</span>
      </th>
    </tr>
  );
}
