import { For, Show, createSignal } from "solid-js";
import { api, call, errorMessage } from "../../lib/api.ts";
import { followCommand } from "../../lib/commands.ts";
import { dateTime } from "../../lib/format.ts";
import { can } from "../../lib/session.ts";
import { toast } from "../../lib/toast.ts";
import { CommandOutput } from "../CommandOutput.tsx";
import { Polled } from "../toolbox/Polled.tsx";
import { poll } from "../toolbox/poll.ts";
import { APPROVAL_LABEL, APPROVAL_PILL, CLASS_PILL, STATE_LABEL, STATE_PILL, UpdateIds } from "./labels.tsx";
import { UpdateSearch } from "./UpdateSearch.tsx";

/** The output of one install command, live while it runs. */
function InstallOutput(props: { deviceId: string; commandId: string }) {
  const view = followCommand(props.deviceId, props.commandId);
  return <CommandOutput view={view()} />;
}

/**
 * A device's updates and software: pending updates with their classification, approval and state
 * (scan now; approve, deny, install the chosen ones with the install's output live), and the installed
 * software, searchable.
 */
export default function UpdatesTab(props: { deviceId: string }) {
  /** A package name, title words, or a CVE / KB / advisory id. */
  const [search, setSearch] = createSignal("");
  const updates = poll(
    () => call(api.api.v1.devices({ id: props.deviceId }).updates.get({ query: search() ? { q: search() } : {} })),
    5000,
  );
  const [q, setQ] = createSignal("");
  const software = poll(() =>
    call(api.api.v1.devices({ id: props.deviceId }).software.get({ query: q() ? { q: q(), limit: 200 } : { limit: 200 } })),
  );
  const [scanning, setScanning] = createSignal(false);
  const [picked, setPicked] = createSignal<Set<string>>(new Set());
  const [command, setCommand] = createSignal<string>();
  const [busy, setBusy] = createSignal(false);

  const scan = async () => {
    setScanning(true);
    try {
      const r = await call(api.api.v1.devices({ id: props.deviceId }).updates.scan.post());
      toast("success", `Scan done: ${r.updates} update${r.updates === 1 ? "" : "s"} pending, ${r.security} security`);
      updates.reload();
      software.reload();
    } catch (e) {
      toast("error", `Scan failed: ${errorMessage(e)}`);
    } finally {
      setScanning(false);
    }
  };
  const decide = async (ids: string[], decision: "approve" | "deny") => {
    setBusy(true);
    try {
      // a decision taken on a device's page is for that device (the Patches page decides for every device)
      await call(api.api.v1.updates.approvals.post({ updateIds: ids, decision, scope: "devices" }));
      toast(
        "success",
        decision === "approve"
          ? "Approved for this device: it installs at its next window"
          : "Denied for this device: it will never be installed here",
      );
      updates.reload();
    } catch (e) {
      toast("error", errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  const install = async () => {
    setBusy(true);
    try {
      const r = await call(api.api.v1.devices({ id: props.deviceId }).updates.install.post({ updateIds: [...picked()] }));
      setCommand(r.commandId);
      setPicked(new Set<string>());
      toast("success", `Installing ${r.updates} update${r.updates === 1 ? "" : "s"}`);
      updates.reload();
    } catch (e) {
      toast("error", errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  const toggle = (id: string, on: boolean) => {
    const next = new Set(picked());
    if (on) next.add(id);
    else next.delete(id);
    setPicked(next);
  };

  return (
    <>
      <section class="card section toolbox" aria-label="Updates">
        <div class="section-head toolbox-head">
          <h2>Updates</h2>
          <div class="row-actions">
            <UpdateSearch
              testId="device-updates-search"
              onSearch={(q) => {
                setSearch(q);
                updates.reload();
              }}
            />
            <Show when={can("patch:approve") && picked().size > 0}>
              <button type="button" class="btn btn-sm btn-primary" disabled={busy()} onClick={install} data-testid="updates-install">
                Install {picked().size} now
              </button>
            </Show>
            <Show when={can("device:manage")}>
              <button type="button" class="btn btn-sm" disabled={scanning()} onClick={scan} data-testid="updates-scan">
                {scanning() ? "Scanning…" : "Scan now"}
              </button>
            </Show>
          </div>
        </div>
        <Polled list={updates} loading="Reading updates…" lines={3}>
          {(d) => (
            <Show
              when={d().items.length > 0}
              fallback={
                <p class="muted" data-testid="updates-empty">
                  {search() ? `No update matches “${search()}”.` : "No pending updates known. Scan the device to check."}
                </p>
              }
            >
              <div class="table-wrap">
                <table class="table toolbox-table" data-testid="updates-table">
                  <thead>
                    <tr>
                      <Show when={can("patch:approve")}>
                        <th scope="col">
                          <span class="sr-only">Select</span>
                        </th>
                      </Show>
                      <th scope="col">Update</th>
                      <th scope="col">Classification</th>
                      <th scope="col">Version</th>
                      <th scope="col">Approval</th>
                      <th scope="col">State</th>
                      <th scope="col">
                        <span class="sr-only">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={d().items}>
                      {(u) => (
                        <tr data-testid="update-row" data-name={u.name}>
                          <Show when={can("patch:approve")}>
                            <td>
                              <input
                                type="checkbox"
                                aria-label={`Install ${u.name}`}
                                disabled={u.approval === "denied" || u.approval === "excluded" || !["pending", "failed"].includes(u.state)}
                                checked={picked().has(u.id)}
                                onChange={(e) => toggle(u.id, e.currentTarget.checked)}
                              />
                            </td>
                          </Show>
                          <td>
                            <strong>{u.name}</strong>
                            <div class="muted small">
                              {u.source}
                              {u.origin ? ` · ${u.origin}` : ""}
                            </div>
                            <UpdateIds ids={u.ids} />
                          </td>
                          <td>
                            <span class={CLASS_PILL[u.classification] ?? "pill"}>{u.classification}</span>
                            <Show when={u.severity}>
                              <div class="muted small">{u.severity}</div>
                            </Show>
                          </td>
                          <td>
                            {u.currentVersion ?? "—"} → <strong>{u.version}</strong>
                          </td>
                          <td>
                            <span class={APPROVAL_PILL[u.approval] ?? "pill"} data-testid="update-approval">
                              {APPROVAL_LABEL[u.approval] ?? u.approval}
                            </span>
                          </td>
                          <td>
                            <span class={STATE_PILL[u.state] ?? "pill"} data-testid="update-state">
                              {STATE_LABEL[u.state] ?? u.state}
                            </span>
                            <Show when={u.error}>
                              <div class="muted small">{u.error}</div>
                            </Show>
                            <Show when={u.finishedAt}>
                              <div class="muted small">{dateTime(u.finishedAt)}</div>
                            </Show>
                          </td>
                          <td class="row-actions">
                            <Show when={u.installCommandId}>
                              {(c) => (
                                <button type="button" class="btn btn-sm btn-ghost" onClick={() => setCommand(c())}>
                                  Output
                                </button>
                              )}
                            </Show>
                            <Show when={can("patch:approve") && (u.state === "pending" || u.state === "failed")}>
                              <Show when={u.approval !== "approved"}>
                                <button type="button" class="btn btn-sm" disabled={busy()} onClick={() => decide([u.id], "approve")}>
                                  Approve
                                </button>
                              </Show>
                              <Show when={u.approval !== "denied"}>
                                <button type="button" class="btn btn-sm btn-ghost" disabled={busy()} onClick={() => decide([u.id], "deny")}>
                                  Deny
                                </button>
                              </Show>
                            </Show>
                          </td>
                        </tr>
                      )}
                    </For>
                  </tbody>
                </table>
              </div>
            </Show>
          )}
        </Polled>
        <Show when={command()}>
          {(c) => (
            <div class="install-output" data-testid="install-output">
              <h3>Install output</h3>
              <InstallOutput deviceId={props.deviceId} commandId={c()} />
            </div>
          )}
        </Show>
      </section>
      <section class="card section toolbox" aria-label="Installed software">
        <div class="section-head toolbox-head">
          <h2>Installed software</h2>
          <form
            class="row-actions"
            onSubmit={(e) => {
              e.preventDefault();
              setQ(String(new FormData(e.currentTarget).get("q") ?? "").trim());
              software.reload();
            }}
          >
            <input class="input" name="q" type="search" placeholder="Search software" aria-label="Search software" maxLength={128} />
          </form>
        </div>
        <Polled list={software} loading="Reading software…" lines={4}>
          {(s) => (
            <>
              <p class="muted small" data-testid="software-total">
                {s().total.toLocaleString()} program{s().total === 1 ? "" : "s"}
                {q() ? ` matching “${q()}”` : ""}
              </p>
              <div class="table-wrap">
                <table class="table toolbox-table" data-testid="software-table">
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Version</th>
                      <th scope="col">Publisher</th>
                      <th scope="col">Installed</th>
                      <th scope="col">Source</th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={s().items}>
                      {(i) => (
                        <tr>
                          <td>{i.name}</td>
                          <td>{i.version}</td>
                          <td class="muted">{i.publisher ?? "—"}</td>
                          <td class="muted">{i.installedAt ? dateTime(i.installedAt) : "—"}</td>
                          <td class="muted">{i.source}</td>
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
    </>
  );
}
