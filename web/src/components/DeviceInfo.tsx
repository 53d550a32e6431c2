import { For, Index, Show } from "solid-js";
import { now } from "../lib/clock.ts";
import { createSites, siteLabel } from "../lib/fleet.ts";
import { OS_LABEL, bytes, dateTime, duration } from "../lib/format.ts";
import type { DeviceDetail } from "../lib/types.ts";

/**
 * System facts of a device: identity, OS, hardware, disks and network interfaces; with `onMove`
 * (technicians and up), a picker that moves the device to another site of the organization.
 */
export function DeviceInfo(props: { device: DeviceDetail; onMove?: (siteId: string) => void }) {
  const d = () => props.device;
  // Uptime as last reported, advanced by the time since while the device is online.
  const uptime = () => {
    const t = d().telemetry;
    if (!t) return "—";
    const since = d().status === "online" ? Math.max(0, (now() - new Date(t.time).getTime()) / 1000) : 0;
    return duration(t.uptimeSeconds + since);
  };
  const rows = (): [string, string][] => [
    ["Serial number", d().serialNumber || "—"],
    ["Operating system", `${d().osName || OS_LABEL[d().os] || d().os} ${d().osVersion}`.trim()],
    ["Kernel", d().kernel || "—"],
    ["Architecture", d().arch],
    ["Agent version", d().agentVersion],
    ["CPU", d().cpuModel ? `${d().cpuModel} · ${d().cpuCores} cores` : `${d().cpuCores} cores`],
    ["Memory", bytes(d().memoryTotalBytes)],
    ["Uptime", uptime()],
    ["Site", d().clientName === d().siteName ? d().siteName : `${d().clientName} / ${d().siteName}`],
    ["Enrolled", dateTime(d().createdAt)],
    ["Status since", dateTime(d().statusChangedAt)],
  ];
  return (
    <section class="card section info-card" aria-labelledby="info-title">
      <h2 id="info-title">System</h2>
      <dl class="facts">
        <Index each={rows()}>
          {(row) => (
            <div>
              <dt>{row()[0]}</dt>
              <dd>{row()[1]}</dd>
            </div>
          )}
        </Index>
      </dl>
      <Show when={props.onMove}>{(move) => <SiteMove siteId={d().siteId} onMove={move()} />}</Show>
      <h3 class="sub">Disks</h3>
      <Show when={d().disks.length} fallback={<p class="muted">No disks reported.</p>}>
        <ul class="plain-list">
          <For each={d().disks}>
            {(disk) => (
              <li>
                <span class="mono">{disk.name}</span>{" "}
                <span class="muted">{[bytes(disk.sizeBytes), disk.model].filter(Boolean).join(" · ")}</span>
              </li>
            )}
          </For>
        </ul>
      </Show>
      <h3 class="sub">Network interfaces</h3>
      <Show when={d().nics.length} fallback={<p class="muted">No interfaces reported.</p>}>
        <ul class="plain-list">
          <For each={d().nics}>
            {(nic) => (
              <li>
                <span class="mono">{nic.name}</span> <span class="muted mono">{nic.mac}</span>
                <Show when={nic.addresses.length}>
                  <div class="mono addr">{nic.addresses.join(", ")}</div>
                </Show>
              </li>
            )}
          </For>
        </ul>
      </Show>
    </section>
  );
}

/** The sites of the organization in a select; choosing another one moves the device there. */
function SiteMove(props: { siteId: string; onMove: (siteId: string) => void }) {
  const sites = createSites();
  return (
    <Show when={(sites.data()?.length ?? 0) > 1}>
      <label class="site-move">
        <span class="muted">Move to site</span>
        <select
          data-testid="device-site"
          value={props.siteId}
          onChange={(e) => {
            if (e.currentTarget.value !== props.siteId) props.onMove(e.currentTarget.value);
          }}
        >
          <For each={sites.data() ?? []}>{(s) => <option value={s.id}>{siteLabel(s)}</option>}</For>
        </select>
      </label>
    </Show>
  );
}
