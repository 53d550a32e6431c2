import { For, Show, createResource, createSignal } from "solid-js";
import { api, call, errorMessage } from "../../lib/api.ts";
import { can } from "../../lib/session.ts";
import { toast } from "../../lib/toast.ts";
import { Polled } from "../toolbox/Polled.tsx";
import { poll } from "../toolbox/poll.ts";

const CLASSES = ["critical", "security", "feature", "other"] as const;
const REBOOT_LABEL = { never: "never", if_needed: "when needed, in the window", force: "always, after a notice" } as const;

/**
 * Patch settings of policies: which classifications are approved by themselves and after how many
 * days, the maintenance window (cron, duration, time zone), the reboot policy and exclusions; each
 * reaches the devices its policy reaches. A window can be opened now.
 */
export function PatchPolicies(props: { onChange: () => void }) {
  const list = poll(() => call(api.api.v1["patch-policies"].get()));
  const [policies] = createResource(() => call(api.api.v1.policies.get()));
  const [adding, setAdding] = createSignal(false);
  const [busy, setBusy] = createSignal(false);

  const create = async (e: SubmitEvent) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const text = (k: string) => String(f.get(k) ?? "").trim();
    const cron = text("cron");
    setBusy(true);
    try {
      await call(
        api.api.v1["patch-policies"].post({
          policyId: text("policyId"),
          autoApprove: CLASSES.filter((c) => f.get(`auto-${c}`) === "on"),
          deferralDays: Number(text("deferralDays") || 0),
          reboot: text("reboot") as keyof typeof REBOOT_LABEL,
          window: cron ? { cron, durationMinutes: Number(text("duration") || 120), timezone: text("timezone") || "UTC" } : null,
          exclusions: text("exclusions")
            .split(/[\s,]+/)
            .filter(Boolean),
        }),
      );
      toast("success", "Patch settings saved");
      setAdding(false);
      list.reload();
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
  const remove = async (id: string) => {
    try {
      await call(api.api.v1["patch-policies"]({ id }).delete());
      list.reload();
    } catch (err) {
      toast("error", errorMessage(err));
    }
  };

  return (
    <section class="card section" aria-label="Patch policies">
      <div class="section-head">
        <h2>Patch policies</h2>
        <Show when={can("policy:manage") && !adding()}>
          <button type="button" class="btn btn-sm" onClick={() => setAdding(true)} data-testid="patch-policy-add">
            Add patch settings to a policy
          </button>
        </Show>
      </div>
      <Show when={adding()}>
        <form class="patch-policy-form" onSubmit={create} data-testid="patch-policy-form">
          <div class="field">
            <label for="pp-policy">Policy</label>
            <select id="pp-policy" name="policyId" required>
              <For each={policies()?.items ?? []}>{(p) => <option value={p.id}>{p.name}</option>}</For>
            </select>
            <p class="hint">The settings reach the devices the policy is attached to (Automation → Policies).</p>
          </div>
          <fieldset class="field">
            <legend>Approve by themselves</legend>
            <For each={CLASSES}>
              {(c) => (
                <label class="inline-check">
                  <input type="checkbox" name={`auto-${c}`} checked={c === "critical" || c === "security"} /> {c}
                </label>
              )}
            </For>
          </fieldset>
          <div class="field">
            <label for="pp-deferral">After (days)</label>
            <input id="pp-deferral" name="deferralDays" type="number" min="0" max="365" value="0" />
          </div>
          <div class="field">
            <label for="pp-cron">Maintenance window (cron)</label>
            <input id="pp-cron" name="cron" class="mono" maxLength={120} placeholder="0 2 * * 6" />
          </div>
          <div class="field">
            <label for="pp-duration">Lasting (minutes)</label>
            <input id="pp-duration" name="duration" type="number" min="5" max="1440" value="120" />
          </div>
          <div class="field">
            <label for="pp-tz">Time zone</label>
            <input id="pp-tz" name="timezone" maxLength={64} value={Intl.DateTimeFormat().resolvedOptions().timeZone} />
          </div>
          <div class="field">
            <label for="pp-reboot">Reboot</label>
            <select id="pp-reboot" name="reboot">
              <option value="if_needed">{REBOOT_LABEL.if_needed}</option>
              <option value="never">{REBOOT_LABEL.never}</option>
              <option value="force">{REBOOT_LABEL.force}</option>
            </select>
          </div>
          <div class="field">
            <label for="pp-exclusions">Never install</label>
            <input id="pp-exclusions" name="exclusions" maxLength={2000} placeholder="linux-image-*, KB5034441" />
          </div>
          <div class="row-actions-start">
            <button type="submit" class="btn btn-primary" disabled={busy()} data-testid="patch-policy-save">
              Save
            </button>
            <button type="button" class="btn" onClick={() => setAdding(false)}>
              Cancel
            </button>
          </div>
        </form>
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
                    <th scope="col">Approved by themselves</th>
                    <th scope="col">Window</th>
                    <th scope="col">Reboot</th>
                    <th scope="col">Never install</th>
                    <th scope="col">
                      <span class="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  <For each={l().items}>
                    {(p) => (
                      <tr data-testid="patch-policy">
                        <td>
                          <strong>{p.policyName}</strong>
                        </td>
                        <td>
                          {p.autoApprove.length > 0 ? p.autoApprove.join(", ") : "none"}
                          <Show when={p.deferralDays > 0}> after {p.deferralDays} days</Show>
                        </td>
                        <td class="mono">
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
                            <button type="button" class="btn btn-sm btn-ghost" onClick={() => remove(p.id)}>
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
    </section>
  );
}
