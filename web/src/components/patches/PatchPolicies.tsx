import { For, Show, createResource, createSignal } from "solid-js";
import { api, call, errorMessage } from "../../lib/api.ts";
import type { Data } from "../../lib/types.ts";
import { can } from "../../lib/session.ts";
import { toast } from "../../lib/toast.ts";
import { ConfirmDialog } from "../ConfirmDialog.tsx";
import { Polled } from "../toolbox/Polled.tsx";
import { poll } from "../toolbox/poll.ts";

const CLASSES = ["critical", "security", "feature", "other"] as const;
const SOURCES = ["apt", "dnf", "zypper", "wua", "winget", "choco", "softwareupdate", "brew"] as const;
const REBOOT_LABEL = { never: "never", if_needed: "when needed, in the window", force: "always, after a notice" } as const;

/** A policy's patch settings as the API gives them (derived from the route through Eden). */
type PatchSettings = Data<(typeof api.api.v1)["patch-policies"]["get"]>["items"][number];
type Reboot = PatchSettings["reboot"];

/** What the form sends: the API's body without the policy. */
type SettingsBody = Omit<NonNullable<Parameters<(typeof api.api.v1)["patch-policies"]["post"]>[0]>, "policyId">;

/** What a new policy's form starts with (the API's defaults, critical and security approved by themselves). */
const NEW: Required<SettingsBody> = {
  autoApprove: ["critical", "security"],
  autoApproveSources: [],
  deferralDays: 0,
  pilotGroupId: null,
  ringDelayDays: 0,
  window: null,
  reboot: "if_needed",
  rebootDelaySeconds: 300,
  exclusions: [],
  scanIntervalHours: 6,
};

/**
 * The form of one policy's patch settings, to add them to a policy or change them: every field the API
 * keeps (auto-approval by classification and source, deferral, pilot ring and its delay, window, reboot
 * and its notice, exclusions, scan interval), so saving a change never resets what the form did not show.
 */
function PatchSettingsForm(props: {
  editing?: PatchSettings;
  busy: boolean;
  onSave: (policyId: string, body: SettingsBody) => void;
  onCancel: () => void;
}) {
  const [policies] = createResource(() => call(api.api.v1.policies.get()).then((r) => r.items));
  const [groups] = createResource(() => call(api.api.v1.groups.get()).then((r) => r.items));
  const v = () => props.editing ?? { ...NEW, id: "", policyId: "", policyName: "" };
  const id = (k: string) => `pp-${props.editing ? "edit" : "new"}-${k}`;

  const submit = (e: SubmitEvent) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const text = (k: string) => String(f.get(k) ?? "").trim();
    const cron = text("cron");
    props.onSave(props.editing?.policyId ?? text("policyId"), {
      autoApprove: CLASSES.filter((c) => f.get(`auto-${c}`) === "on"),
      autoApproveSources: SOURCES.filter((s) => f.get(`source-${s}`) === "on"),
      deferralDays: Number(text("deferralDays") || 0),
      pilotGroupId: text("pilotGroupId") || null,
      ringDelayDays: Number(text("ringDelayDays") || 0),
      window: cron ? { cron, durationMinutes: Number(text("duration") || 120), timezone: text("timezone") || "UTC" } : null,
      reboot: text("reboot") as Reboot,
      rebootDelaySeconds: Number(text("rebootDelaySeconds") || 0),
      exclusions: text("exclusions")
        .split(/[\s,]+/)
        .filter(Boolean),
      scanIntervalHours: Number(text("scanIntervalHours") || 6),
    });
  };

  return (
    <form
      class="patch-policy-form"
      onSubmit={submit}
      data-testid={props.editing ? "patch-policy-edit-form" : "patch-policy-form"}
      aria-label={props.editing ? `Patch settings of ${props.editing.policyName}` : "New patch settings"}
    >
      <div class="field">
        <Show
          when={!props.editing}
          fallback={
            <>
              <span class="muted small">Policy</span>
              <p data-testid="patch-policy-edit-name">
                <strong>{props.editing?.policyName}</strong>
              </p>
            </>
          }
        >
          <label for={id("policy")}>Policy</label>
          <select id={id("policy")} name="policyId" required>
            <For each={policies() ?? []}>{(p) => <option value={p.id}>{p.name}</option>}</For>
          </select>
        </Show>
        <p class="hint">The settings reach the devices the policy is attached to (Automation → Policies).</p>
      </div>
      <fieldset class="field">
        <legend>Approve by themselves</legend>
        <For each={CLASSES}>
          {(c) => (
            <label class="inline-check">
              <input type="checkbox" name={`auto-${c}`} checked={v().autoApprove.includes(c)} /> {c}
            </label>
          )}
        </For>
      </fieldset>
      <fieldset class="field">
        <legend>Only from (none: any source)</legend>
        <For each={SOURCES}>
          {(s) => (
            <label class="inline-check">
              <input type="checkbox" name={`source-${s}`} checked={v().autoApproveSources.includes(s)} /> {s}
            </label>
          )}
        </For>
      </fieldset>
      <div class="field">
        <label for={id("deferral")}>After (days)</label>
        <input id={id("deferral")} name="deferralDays" type="number" min="0" max="365" value={v().deferralDays} />
      </div>
      <div class="field">
        <label for={id("pilot")}>Pilot ring (smart group)</label>
        <select id={id("pilot")} name="pilotGroupId">
          <option value="">none: every device at once</option>
          <For each={groups() ?? []}>
            {(g) => (
              <option value={g.id} selected={g.id === v().pilotGroupId}>
                {g.name}
              </option>
            )}
          </For>
        </select>
      </div>
      <div class="field">
        <label for={id("ring")}>The rest after the pilots (days)</label>
        <input id={id("ring")} name="ringDelayDays" type="number" min="0" max="90" value={v().ringDelayDays} />
      </div>
      <div class="field">
        <label for={id("cron")}>Maintenance window (cron)</label>
        <input id={id("cron")} name="cron" class="mono" maxLength={120} placeholder="0 2 * * 6" value={v().window?.cron ?? ""} />
      </div>
      <div class="field">
        <label for={id("duration")}>Lasting (minutes)</label>
        <input id={id("duration")} name="duration" type="number" min="5" max="1440" value={v().window?.durationMinutes ?? 120} />
      </div>
      <div class="field">
        <label for={id("tz")}>Time zone</label>
        <input
          id={id("tz")}
          name="timezone"
          maxLength={64}
          value={v().window?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone}
        />
      </div>
      <div class="field">
        <label for={id("reboot")}>Reboot</label>
        <select id={id("reboot")} name="reboot">
          <For each={Object.keys(REBOOT_LABEL) as Reboot[]}>
            {(r) => (
              <option value={r} selected={r === v().reboot}>
                {REBOOT_LABEL[r]}
              </option>
            )}
          </For>
        </select>
      </div>
      <div class="field">
        <label for={id("notice")}>Notice before a reboot (seconds)</label>
        <input id={id("notice")} name="rebootDelaySeconds" type="number" min="0" max="3600" value={v().rebootDelaySeconds} />
      </div>
      <div class="field">
        <label for={id("exclusions")}>Never install</label>
        <input
          id={id("exclusions")}
          name="exclusions"
          maxLength={2000}
          placeholder="linux-image-*, KB5034441"
          value={v().exclusions.join(", ")}
        />
      </div>
      <div class="field">
        <label for={id("scan")}>Scan every (hours)</label>
        <input id={id("scan")} name="scanIntervalHours" type="number" min="1" max="168" value={v().scanIntervalHours} />
      </div>
      <div class="row-actions-start">
        <button type="submit" class="btn btn-primary" disabled={props.busy} data-testid="patch-policy-save">
          Save
        </button>
        <button type="button" class="btn" onClick={() => props.onCancel()}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/**
 * Patch settings of policies: which classifications are approved by themselves and after how many
 * days, the pilot ring, the maintenance window (cron, duration, time zone), the reboot policy and
 * exclusions; each reaches the devices its policy reaches. Settings can be added, changed and removed
 * (each audited by the server), and a window can be opened now.
 */
export function PatchPolicies(props: { onChange: () => void }) {
  const list = poll(() => call(api.api.v1["patch-policies"].get()));
  const [adding, setAdding] = createSignal(false);
  const [editing, setEditing] = createSignal<PatchSettings>();
  const [removing, setRemoving] = createSignal<PatchSettings>();
  const [busy, setBusy] = createSignal(false);

  const save = async (policyId: string, body: SettingsBody) => {
    const current = editing();
    setBusy(true);
    try {
      if (current) await call(api.api.v1["patch-policies"]({ id: current.id }).put({ policyId, ...body }));
      else await call(api.api.v1["patch-policies"].post({ policyId, ...body }));
      toast("success", current ? `Patch settings of ${current.policyName} changed` : "Patch settings saved");
      setAdding(false);
      setEditing(undefined);
      list.reload();
      props.onChange();
    } catch (err) {
      toast("error", errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const openWindow = async (id: string) => {
    setBusy(true);
    try {
      const r = await call(api.api.v1["patch-policies"]({ id }).window.post({}));
      toast("success", `Window open: ${r.updates} update${r.updates === 1 ? "" : "s"} on ${r.devices} device${r.devices === 1 ? "" : "s"}`);
      props.onChange();
    } catch (err) {
      toast("error", errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const remove = async (p: PatchSettings) => {
    try {
      await call(api.api.v1["patch-policies"]({ id: p.id }).delete());
      toast("success", `Patch settings removed from ${p.policyName}`);
      if (editing()?.id === p.id) setEditing(undefined);
      list.reload();
      props.onChange();
    } catch (err) {
      toast("error", errorMessage(err));
    }
  };

  return (
    <section class="card section" aria-label="Patch policies">
      <div class="section-head">
        <h2>Patch policies</h2>
        <Show when={can("policy:manage") && !adding() && !editing()}>
          <button type="button" class="btn btn-sm" onClick={() => setAdding(true)} data-testid="patch-policy-add">
            Add patch settings to a policy
          </button>
        </Show>
      </div>
      <Show when={adding()}>
        <PatchSettingsForm busy={busy()} onSave={save} onCancel={() => setAdding(false)} />
      </Show>
      <Show when={editing()} keyed>
        {(p) => <PatchSettingsForm editing={p} busy={busy()} onSave={save} onCancel={() => setEditing(undefined)} />}
      </Show>
      <Polled list={list} loading="Reading patch policies…" lines={2}>
        {(l) => (
          <Show
            when={l().items.length > 0}
            fallback={<p class="muted">No policy has patch settings yet: every update waits for an approval.</p>}
          >
            <div class="table-wrap">
              <table class="table" data-testid="patch-policies">
                <thead>
                  <tr>
                    <th scope="col">Policy</th>
                    <th scope="col">Approve by themselves</th>
                    <th scope="col">Window</th>
                    <th scope="col">Reboot</th>
                    <th scope="col">Never install</th>
                    <th scope="col">
                      <span class="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  <For each={l().items as PatchSettings[]}>
                    {(p) => (
                      <tr data-testid="patch-policy" data-policy={p.policyName}>
                        <td>
                          <strong>{p.policyName}</strong>
                        </td>
                        <td data-testid="patch-policy-auto">
                          {p.autoApprove.length > 0 ? p.autoApprove.join(", ") : "none"}
                          <Show when={p.deferralDays > 0}> after {p.deferralDays} days</Show>
                          <Show when={p.pilotGroupId}>
                            <div class="muted small">pilot ring first, the rest {p.ringDelayDays} days later</div>
                          </Show>
                        </td>
                        <td class="mono" data-testid="patch-policy-window">
                          {p.window
                            ? `${p.window.cron} · ${p.window.durationMinutes} min · ${p.window.timezone}`
                            : "none (install by hand)"}
                        </td>
                        <td>{REBOOT_LABEL[p.reboot]}</td>
                        <td class="muted">{p.exclusions.join(", ") || "—"}</td>
                        <td class="row-actions">
                          <Show when={can("patch:approve")}>
                            <button
                              type="button"
                              class="btn btn-sm"
                              disabled={busy()}
                              onClick={() => openWindow(p.id)}
                              data-testid="patch-window-open"
                            >
                              Open window now
                            </button>
                          </Show>
                          <Show when={can("policy:manage")}>
                            <button
                              type="button"
                              class="btn btn-sm"
                              disabled={busy()}
                              onClick={() => {
                                setAdding(false);
                                setEditing(p);
                              }}
                              data-testid="patch-policy-edit"
                            >
                              Edit
                            </button>
                            <button
                              type="button"
                              class="btn btn-sm btn-ghost"
                              onClick={() => setRemoving(p)}
                              data-testid="patch-policy-remove"
                            >
                              Remove
                            </button>
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
      <ConfirmDialog
        open={removing() !== undefined}
        title="Remove patch settings?"
        message={`The devices under ${removing()?.policyName ?? "this policy"} lose its auto-approval, window and reboot settings; updates then wait for a person's approval.`}
        confirmLabel="Remove"
        danger
        onConfirm={() => {
          const p = removing();
          if (p) void remove(p);
        }}
        onClose={() => setRemoving(undefined)}
      />
    </section>
  );
}
