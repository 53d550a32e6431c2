import { For, Show, createResource, createSignal } from "solid-js";
import { ConfirmDialog } from "../components/ConfirmDialog.tsx";
import { ResourceList } from "../components/ResourceList.tsx";
import { api, call, errorMessage } from "../lib/api.ts";
import { CHANNEL_TYPES, type Channel, type ChannelType, text, apply } from "../lib/automation.ts";
import { can } from "../lib/session.ts";
import { toast } from "../lib/toast.ts";

type FieldDef = { name: string; label: string; type?: string; required?: boolean; placeholder?: string };
const FIELDS: Record<ChannelType, FieldDef[]> = {
  webhook: [
    { name: "url", label: "URL", type: "url", required: true, placeholder: "https://example.com/hook" },
    { name: "secret", label: "Signing secret (optional)", type: "password" },
  ],
  slack: [{ name: "webhookUrl", label: "Webhook URL", type: "url", required: true }],
  teams: [{ name: "webhookUrl", label: "Webhook URL", type: "url", required: true }],
  discord: [{ name: "webhookUrl", label: "Webhook URL", type: "url", required: true }],
  telegram: [
    { name: "botToken", label: "Bot token", type: "password", required: true },
    { name: "chatId", label: "Chat ID", required: true },
  ],
  sms: [
    { name: "url", label: "Gateway URL", type: "url", required: true },
    { name: "to", label: "Phone number", type: "tel", required: true },
    { name: "authorization", label: "Authorization header (optional)", type: "password" },
  ],
  email: [
    { name: "host", label: "SMTP host", required: true },
    { name: "port", label: "Port", type: "number", required: true, placeholder: "587" },
    { name: "user", label: "User (optional)" },
    { name: "password", label: "Password (optional)", type: "password" },
    { name: "from", label: "From", type: "email", required: true },
    { name: "to", label: "To (comma separated)", required: true },
  ],
};

function configOf(type: ChannelType, f: FormData): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const d of FIELDS[type]) {
    const val = text(f, d.name);
    if (val) out[d.name] = val;
  }
  if (type === "email") {
    out.port = Number(out.port);
    out.to = String(out.to ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    out.secure = f.get("secure") === "on";
  }
  return out;
}

/** Notification channels: add one per type with its own fields, send a test, delete. */
export function ChannelsTab() {
  const [channels, { refetch }] = createResource(() => call(api.api.v1["notification-channels"].get()).then((r) => r.items));
  const [kind, setKind] = createSignal<ChannelType>("webhook");
  // replaced after a save to remount the form empty (form.reset() would desync the controlled type select)
  const [formKey, setFormKey] = createSignal({});
  const [error, setError] = createSignal("");
  const [busy, setBusy] = createSignal(false);
  const [outcome, setOutcome] = createSignal<Record<string, string>>({});
  const [deleting, setDeleting] = createSignal<Channel | null>(null);

  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    const formEl = e.currentTarget as HTMLFormElement;
    const f = new FormData(formEl);
    const name = text(f, "name");
    setError("");
    if (!name) return setError("Give the channel a name.");
    for (const d of FIELDS[kind()]) if (d.required && !text(f, d.name)) return setError(`${d.label} is required.`);
    setBusy(true);
    try {
      await call(api.api.v1["notification-channels"].post({ name, type: kind(), config: configOf(kind(), f) }));
      toast("success", `Channel "${name}" added.`);
      setFormKey({});
      refetch();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const test = async (c: Channel) => {
    setOutcome((o) => ({ ...o, [c.id]: "Sending…" }));
    try {
      const r = (await call(api.api.v1["notification-channels"]({ id: c.id }).test.post())) as { ok: boolean; error?: string };
      setOutcome((o) => ({ ...o, [c.id]: r.ok ? "Delivered" : `Failed: ${r.error ?? "unknown error"}` }));
    } catch (err) {
      setOutcome((o) => ({ ...o, [c.id]: `Failed: ${errorMessage(err)}` }));
    }
  };

  const remove = (c: Channel) =>
    apply(() => call(api.api.v1["notification-channels"]({ id: c.id }).delete()), refetch, `Channel "${c.name}" deleted.`);

  return (
    <section class="card section" aria-labelledby="ch-title">
      <div class="section-head">
        <div>
          <h2 id="ch-title">Notification channels</h2>
          <p class="muted">Where alerts and workflow notices are sent. Secrets are stored encrypted and never shown again.</p>
        </div>
      </div>
      <Show when={can("alert:configure") && formKey()} keyed>
        {(_key) => (
          <form class="auto-form" onSubmit={submit} novalidate aria-describedby={error() ? "ch-err" : undefined}>
            <div class="field grow">
              <label for="ch-name">Name</label>
              <input id="ch-name" name="name" placeholder="On-call Slack" maxLength={200} />
            </div>
            <div class="field">
              <label for="ch-type">Type</label>
              <select id="ch-type" value={kind()} onChange={(e) => setKind(e.currentTarget.value as ChannelType)}>
                <For each={CHANNEL_TYPES}>{(t) => <option value={t}>{t}</option>}</For>
              </select>
            </div>
            <For each={FIELDS[kind()]}>
              {(d) => (
                <div class="field grow">
                  <label for={`ch-${d.name}`}>{d.label}</label>
                  <input id={`ch-${d.name}`} name={d.name} type={d.type ?? "text"} placeholder={d.placeholder} required={d.required} />
                </div>
              )}
            </For>
            <Show when={kind() === "email"}>
              <label class="check">
                <input type="checkbox" name="secure" /> TLS
              </label>
            </Show>
            <button type="submit" class="btn btn-primary" disabled={busy()} data-testid="channel-create">
              {busy() ? "Adding…" : "Add channel"}
            </button>
          </form>
        )}
      </Show>
      <Show when={error()}>
        <div class="error-note form-error" role="alert" id="ch-err">
          {error()}
        </div>
      </Show>
      <ResourceList data={channels} retry={refetch} empty="No channels yet.">
        {(list) => (
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Type</th>
                  <th scope="col">Test</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                <For each={list()}>
                  {(c) => (
                    <tr data-testid="channel-row">
                      <td>{c.name}</td>
                      <td>
                        <span class="tag">{c.type}</span>
                      </td>
                      <td role="status" data-testid="channel-test-outcome">
                        <span class={outcome()[c.id]?.startsWith("Failed") ? "outcome-bad" : "outcome-ok"}>{outcome()[c.id] ?? ""}</span>
                      </td>
                      <td class="right">
                        <button type="button" class="btn btn-sm" data-testid="channel-test" onClick={() => test(c)}>
                          Send test
                        </button>{" "}
                        <Show when={can("alert:configure")}>
                          <button type="button" class="btn btn-sm btn-danger" onClick={() => setDeleting(c)}>
                            Delete
                          </button>
                        </Show>
                      </td>
                    </tr>
                  )}
                </For>
              </tbody>
            </table>
          </div>
        )}
      </ResourceList>
      <ConfirmDialog
        open={!!deleting()}
        title={`Delete channel "${deleting()?.name ?? ""}"?`}
        message="Rules and workflows stop sending to it."
        confirmLabel="Delete channel"
        danger
        onConfirm={() => {
          const c = deleting();
          if (c) remove(c);
        }}
        onClose={() => setDeleting(null)}
      />
    </section>
  );
}
