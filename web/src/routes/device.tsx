import { A, useNavigate, useParams, useSearchParams } from "@solidjs/router";
import { For, Match, Show, Switch, createEffect, createMemo, createResource, createSignal, lazy, onCleanup } from "solid-js";
import { ConfirmDialog } from "../components/ConfirmDialog.tsx";
import { DeviceAlerts } from "../components/DeviceAlerts.tsx";
import { DeviceInfo } from "../components/DeviceInfo.tsx";
import { EmptyState } from "../components/EmptyState.tsx";
import { ErrorNote } from "../components/ErrorNote.tsx";
import { OsIcon } from "../components/OsIcon.tsx";
import { CommandHistory } from "../components/CommandHistory.tsx";
import { PowerDialog } from "../components/PowerDialog.tsx";
import { actionHref } from "../components/QuickActions.tsx";
import { RunScriptDialog } from "../components/RunScriptDialog.tsx";
import { TerminalRecordings } from "../components/TerminalRecordings.tsx";
import { RelativeTime } from "../components/RelativeTime.tsx";
import { SkeletonLines } from "../components/Skeleton.tsx";
import { StatusBadge } from "../components/StatusBadge.tsx";
import { ApiError, api, call, errorMessage } from "../lib/api.ts";
import { onLive } from "../lib/live.ts";
import { can } from "../lib/session.ts";
import { toast } from "../lib/toast.ts";
import type { DeviceDetail } from "../lib/types.ts";
import { DeviceCharts } from "./device-charts.tsx";
import "./device.css";
import "../components/toolbox/toolbox.css";

// each toolbox tab is its own chunk, fetched when a technician opens it
const ProcessesTab = lazy(() => import("../components/toolbox/ProcessesTab.tsx"));
const ServicesTab = lazy(() => import("../components/toolbox/ServicesTab.tsx"));
const EventLogTab = lazy(() => import("../components/toolbox/EventLogTab.tsx"));
const EnvironmentTab = lazy(() => import("../components/toolbox/EnvironmentTab.tsx"));
const HealthTab = lazy(() => import("../components/toolbox/HealthTab.tsx"));
const PoliciesTab = lazy(() => import("../components/DevicePolicies.tsx"));
const UpdatesTab = lazy(() => import("../components/patches/UpdatesTab.tsx"));
const FilesTab = lazy(() => import("./files.tsx"));
const TABS = [
  { id: "overview", label: "Overview" },
  { id: "processes", label: "Processes" },
  { id: "services", label: "Services" },
  { id: "events", label: "Event log" },
  { id: "environment", label: "Environment" },
  { id: "health", label: "Health" },
  { id: "updates", label: "Updates" },
  { id: "files", label: "Files" },
  { id: "policies", label: "Policies" },
] as const;
type TabId = (typeof TABS)[number]["id"];

/** One device: header, live charts, alerts, system facts and actions. */
export default function DevicePage() {
  const params = useParams<{ id: string }>();
  const navigate = useNavigate();
  const [device, { mutate, refetch }] = createResource(
    () => params.id,
    (id) => call(api.api.v1.devices({ id }).get()),
  );
  // Reading a resource that failed throws; everything below reads it through this. While the router
  // leaves this page its id param is gone: keep the device until the page is disposed, or the
  // <Match> below would close under its own children ("Stale read from <Match>").
  const current = createMemo<DeviceDetail | undefined>((prev) => {
    if (device.error) return undefined;
    return device.latest ?? (params.id === undefined ? prev : undefined);
  });
  /**
   * What the page's children read: the last device shown, never undefined once one was. The <Match>
   * accessor throws "Stale read" when anything (a lazy tab, a chart loading, a late event) reads it
   * after the match closed on the way out of the page; this one does not.
   */
  let last: DeviceDetail | undefined;
  const shown = (): DeviceDetail | undefined => {
    // not a memo of its own: during the router's transition a second memo could still hold its value
    // from before the device arrived while the <Match> on current() already rendered its children
    const c = current();
    if (c) last = c;
    return c ?? last;
  };
  const [confirmDelete, setConfirmDelete] = createSignal(false);
  const [search, setSearch] = useSearchParams<{ action?: string; tab?: string }>();
  const tab = (): TabId => TABS.find((t) => t.id === search.tab)?.id ?? "overview";
  const [historyKey, setHistoryKey] = createSignal(0);
  const canManage = () => can("device:manage");
  const power = () => (search.action === "reboot" || search.action === "shutdown" ? search.action : null);
  const closeAction = () => setSearch({ action: undefined }, { replace: true });
  const canDelete = () => can("device:delete");

  const patch = (p: Partial<DeviceDetail>) => {
    const d = current();
    if (d) mutate({ ...d, ...p });
  };
  onCleanup(
    onLive((e) => {
      if (e.type === "device.status" && e.data.deviceId === params.id)
        patch({ status: e.data.status, statusChangedAt: new Date(e.data.at) });
      if (e.type === "device.telemetry" && e.data.deviceId === params.id) {
        const d = current();
        const p = e.data.point;
        const t = d?.telemetry;
        patch({
          lastSeenAt: new Date(p.time),
          telemetry: t
            ? {
                ...t,
                ...p,
                time: new Date(p.time),
                uptimeSeconds: t.uptimeSeconds + (new Date(p.time).getTime() - new Date(t.time).getTime()) / 1000,
              }
            : null,
        });
      }
    }),
  );

  const moveTo = async (siteId: string) => {
    try {
      await call(api.api.v1.devices({ id: params.id }).patch({ siteId }));
      toast("success", "The device was moved.");
      refetch();
    } catch (e) {
      toast("error", errorMessage(e));
    }
  };

  const wake = async () => {
    try {
      const r = await call(api.api.v1.devices({ id: params.id }).wake.post());
      toast("success", `Magic packet sent to ${r.broadcasts.join(", ")} by ${r.relayHostname}.`);
    } catch (e) {
      toast("error", errorMessage(e));
    }
  };

  const remove = async () => {
    const d = current();
    if (!d) return;
    try {
      await call(api.api.v1.devices({ id: d.id }).delete());
      toast("success", `${d.hostname} was removed with its history.`);
      navigate("/devices", { replace: true });
    } catch (e) {
      toast("error", errorMessage(e));
    }
  };

  const notFound = () => device.error instanceof ApiError && (device.error.status === 404 || device.error.status === 422);
  const title = () => current()?.hostname;
  createEffect(() => {
    document.title = `${title() ?? "Device"} · SENTpulse`;
  });

  return (
    <div class="device-page">
      <nav class="breadcrumb" aria-label="Breadcrumb">
        <A href="/devices">Devices</A> <span aria-hidden="true">/</span>{" "}
        <span aria-current="page">{title() ?? (device.error ? "Not found" : "…")}</span>
      </nav>
      <Switch>
        <Match when={notFound()}>
          <EmptyState
            title="Device not found"
            actions={
              <A href="/devices" class="btn btn-primary">
                Back to devices
              </A>
            }
          >
            It may have been removed, or it belongs to another organization.
          </EmptyState>
        </Match>
        <Match when={device.error && !current()}>
          <ErrorNote message={errorMessage(device.error)} onRetry={refetch} />
        </Match>
        <Match when={!current()}>
          <div class="card section">
            <SkeletonLines count={3} height="20px" label="Loading device…" />
          </div>
        </Match>
        <Match when={current()}>
          {(_) => {
            const d = () => shown() as DeviceDetail;
            return (
              <>
                <header class="device-header card">
                  <div class="device-title">
                    <OsIcon os={d().os} />
                    <div>
                      <h1>{d().hostname}</h1>
                      <p class="muted">
                        {d().osName} {d().osVersion} · {d().arch} · last seen <RelativeTime value={d().lastSeenAt} />
                      </p>
                    </div>
                    <StatusBadge status={d().status} />
                  </div>
                  <div class="device-actions" role="toolbar" aria-label="Device actions">
                    <Show when={can("device:terminal")}>
                      <A href={actionHref(d().id, "terminal")} class="btn btn-sm" data-testid="terminal-open">
                        Open terminal
                      </A>
                    </Show>
                    <Show when={can("device:script")}>
                      <button
                        type="button"
                        class="btn btn-sm"
                        data-testid="run-script-open"
                        onClick={() => setSearch({ action: "run-script" })}
                      >
                        Run script
                      </button>
                    </Show>
                    <Show when={canManage() && d().status !== "online"}>
                      <button
                        type="button"
                        class="btn btn-sm"
                        data-testid="device-wake"
                        title="Wake-on-LAN through an online device of the same subnet"
                        onClick={() => void wake()}
                      >
                        Wake
                      </button>
                    </Show>
                    <Show when={canManage()}>
                      <button type="button" class="btn btn-sm" data-testid="power-reboot" onClick={() => setSearch({ action: "reboot" })}>
                        Reboot
                      </button>
                      <button
                        type="button"
                        class="btn btn-sm"
                        data-testid="power-shutdown"
                        onClick={() => setSearch({ action: "shutdown" })}
                      >
                        Shutdown
                      </button>
                    </Show>
                    <Show when={canDelete()}>
                      <button
                        type="button"
                        class="btn btn-sm btn-danger"
                        data-testid="device-remove"
                        title="Remove this device and its history"
                        onClick={() => setConfirmDelete(true)}
                      >
                        Remove
                      </button>
                    </Show>
                  </div>
                  <Show when={d().tags.length}>
                    <div class="tags device-tags">
                      <For each={d().tags}>{(t) => <span class="tag">{t}</span>}</For>
                    </div>
                  </Show>
                </header>
                <nav class="device-tabs" aria-label="Device sections">
                  <For each={TABS}>
                    {(t) => (
                      // a plain <a> (the router still handles the click): <A> would mark every ?tab= link current
                      <a
                        href={t.id === "overview" ? `/devices/${d().id}` : `/devices/${d().id}?tab=${t.id}`}
                        aria-current={tab() === t.id ? "page" : undefined}
                        data-testid={`device-tab-${t.id}`}
                      >
                        {t.label}
                      </a>
                    )}
                  </For>
                </nav>
                <Switch>
                  <Match when={tab() === "processes"}>
                    <ProcessesTab deviceId={d().id} />
                  </Match>
                  <Match when={tab() === "services"}>
                    <ServicesTab deviceId={d().id} />
                  </Match>
                  <Match when={tab() === "events"}>
                    <EventLogTab deviceId={d().id} os={d().os} />
                  </Match>
                  <Match when={tab() === "environment"}>
                    <EnvironmentTab deviceId={d().id} />
                  </Match>
                  <Match when={tab() === "health"}>
                    <HealthTab deviceId={d().id} />
                  </Match>
                  <Match when={tab() === "updates"}>
                    <UpdatesTab deviceId={d().id} />
                  </Match>
                  <Match when={tab() === "policies"}>
                    <PoliciesTab deviceId={d().id} />
                  </Match>
                  <Match when={tab() === "files"}>
                    <FilesTab deviceId={d().id} os={d().os} />
                  </Match>
                  <Match when={tab() === "overview"}>
                    <div class="device-grid">
                      <div class="device-main">
                        <DeviceCharts deviceId={d().id} latest={d().telemetry} />
                        <CommandHistory deviceId={d().id} reload={historyKey()} />
                        <DeviceAlerts deviceId={d().id} />
                        <Show when={can("device:terminal")}>
                          <TerminalRecordings deviceId={d().id} />
                        </Show>
                      </div>
                      <DeviceInfo device={d()} onMove={canManage() ? moveTo : undefined} />
                    </div>
                  </Match>
                </Switch>
                <RunScriptDialog
                  open={search.action === "run-script"}
                  deviceId={d().id}
                  hostname={d().hostname}
                  onClose={() => {
                    closeAction();
                    setHistoryKey((n) => n + 1);
                  }}
                />
                <PowerDialog
                  kind={power()}
                  deviceId={d().id}
                  hostname={d().hostname}
                  onClose={closeAction}
                  onQueued={() => setHistoryKey((n) => n + 1)}
                />
                <ConfirmDialog
                  open={confirmDelete()}
                  title={`Remove ${d().hostname}?`}
                  message="The device and all its telemetry and alerts are deleted. Its agent is disconnected and must be enrolled again to come back."
                  confirmLabel="Remove device"
                  danger
                  onConfirm={remove}
                  onClose={() => setConfirmDelete(false)}
                />
              </>
            );
          }}
        </Match>
      </Switch>
    </div>
  );
}
