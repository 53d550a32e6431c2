import { For, Show, createMemo, createSignal } from "solid-js";
import type { ServiceAction, ServiceInfo } from "../../../../server/protocol/toolbox.ts";
import { api, call, errorMessage } from "../../lib/api.ts";
import { can } from "../../lib/session.ts";
import { toast } from "../../lib/toast.ts";
import { Polled } from "./Polled.tsx";
import { poll } from "./poll.ts";

const MANAGER: Record<string, string> = {
  systemd: "systemd units",
  sysv: "SysV init scripts (systemd is not running)",
  windows: "Windows services",
  launchd: "launchd jobs (system domain)",
};
const STATE_CLASS: Record<string, string> = {
  running: "pill pill-ok",
  failed: "sev sev-critical",
  starting: "pill pill-live",
  stopping: "pill pill-live",
};
const ACTIONS: { action: ServiceAction; label: string; when: (s: ServiceInfo) => boolean }[] = [
  { action: "start", label: "Start", when: (s) => s.state !== "running" },
  { action: "stop", label: "Stop", when: (s) => s.state === "running" || s.state === "starting" },
  { action: "restart", label: "Restart", when: (s) => s.state === "running" },
  { action: "enable", label: "Enable", when: (s) => s.startup !== "auto" },
  { action: "disable", label: "Disable", when: (s) => s.startup !== "disabled" },
];
/** Rows drawn at most; a filter narrows the rest. */
const MAX_ROWS = 500;

/** The device's services with their state and startup type; start, stop, restart, enable, disable. */
export default function ServicesTab(props: { deviceId: string }) {
  const list = poll(() => call(api.api.v1.devices({ id: props.deviceId }).services.get()));
  const [filter, setFilter] = createSignal("");
  const [busy, setBusy] = createSignal<string>();
  const [changed, setChanged] = createSignal<Record<string, ServiceInfo>>({});
  const rows = createMemo(() => {
    const q = filter().trim().toLowerCase();
    return (list.data()?.items ?? [])
      .map((s) => changed()[s.name] ?? s)
      .filter(
        (s) => !q || s.name.toLowerCase().includes(q) || s.displayName.toLowerCase().includes(q) || s.description.toLowerCase().includes(q),
      );
  });

  const act = async (s: ServiceInfo, action: ServiceAction) => {
    setBusy(`${s.name}:${action}`);
    try {
      const r = await call(api.api.v1.devices({ id: props.deviceId }).services({ name: s.name })({ action }).post());
      const now = r.service;
      if (now) setChanged((c) => ({ ...c, [s.name]: now }));
      toast("success", `${s.displayName}: ${action} done${now ? ` — now ${now.state}, startup ${now.startup}` : ""}.`);
    } catch (e) {
      toast("error", errorMessage(e));
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <section class="card section toolbox" aria-label="Services">
      <div class="section-head toolbox-head">
        <h2>Services</h2>
        <div class="toolbox-controls">
          <input
            type="search"
            placeholder="Filter by name or description"
            aria-label="Filter services"
            value={filter()}
            onInput={(e) => setFilter(e.currentTarget.value)}
            data-testid="service-filter"
          />
          <button
            type="button"
            class="btn btn-sm"
            onClick={() => {
              setChanged({});
              list.reload();
            }}
          >
            Refresh
          </button>
        </div>
      </div>
      <Polled list={list} loading="Loading services…">
        {(data) => (
          <>
            <p class="muted small">
              {data().items.length} {MANAGER[data().manager]}
              {rows().length > MAX_ROWS ? ` · first ${MAX_ROWS} drawn, filter to narrow` : ""}
            </p>
            <div class="table-wrap">
              <table class="table toolbox-table" data-testid="service-table">
                <thead>
                  <tr>
                    <th scope="col">Service</th>
                    <th scope="col">State</th>
                    <th scope="col">Startup</th>
                    <th scope="col">Description</th>
                    <Show when={can("device:manage")}>
                      <th scope="col">
                        <span class="sr-only">Actions</span>
                      </th>
                    </Show>
                  </tr>
                </thead>
                <tbody>
                  <For each={rows().slice(0, MAX_ROWS)}>
                    {(s) => (
                      <tr data-testid="service-row" data-name={s.name}>
                        <td>
                          <strong>{s.displayName}</strong>
                          <Show when={s.displayName !== s.name}>
                            <div class="muted small">{s.name}</div>
                          </Show>
                        </td>
                        <td>
                          <span class={STATE_CLASS[s.state] ?? "pill"} data-testid="service-state">
                            {s.state}
                          </span>
                          <Show when={s.pid}>
                            <span class="muted small"> pid {s.pid}</span>
                          </Show>
                        </td>
                        <td data-testid="service-startup">{s.startup}</td>
                        <td class="muted">{s.description}</td>
                        <Show when={can("device:manage")}>
                          <td class="row-actions">
                            <For each={ACTIONS.filter((a) => a.when(s))}>
                              {(a) => (
                                <button
                                  type="button"
                                  class="btn btn-sm"
                                  disabled={busy() !== undefined}
                                  aria-busy={busy() === `${s.name}:${a.action}`}
                                  onClick={() => void act(s, a.action)}
                                  data-testid={`service-${a.action}`}
                                >
                                  {a.label}
                                </button>
                              )}
                            </For>
                          </td>
                        </Show>
                      </tr>
                    )}
                  </For>
                </tbody>
              </table>
            </div>
          </>
        )}
      </Polled>
    </section>
  );
}
