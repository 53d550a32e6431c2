import { A } from "@solidjs/router";
import { For, Show, createSignal, onCleanup } from "solid-js";
import * as v from "valibot";
import { CopyField } from "../components/CopyField.tsx";
import { api, call, errorMessage } from "../lib/api.ts";
import { createSites, siteLabel } from "../lib/fleet.ts";
import { dateTime } from "../lib/format.ts";
import { fieldErrors } from "../lib/forms.ts";
import { onLive } from "../lib/live.ts";
import type { NewEnrollmentToken } from "../lib/types.ts";
import "./add-device.css";

const TAG = /^[A-Za-z0-9_.:-]{1,64}(=\S{0,63})?$/;
const TokenForm = v.object({
  // Empty when the site list could not be loaded: the server then uses the organization's first site.
  siteId: v.pipe(
    v.string(),
    v.transform((s) => s || undefined),
  ),
  expiresInMinutes: v.pipe(v.string(), v.transform(Number), v.integer(), v.minValue(1), v.maxValue(525_600)),
  maxUses: v.pipe(
    v.string(),
    v.trim(),
    v.check((s) => s === "" || /^\d+$/.test(s), "Enter a whole number, or leave it empty for no limit."),
    v.transform((s) => (s === "" ? undefined : Number(s))),
    v.optional(v.pipe(v.number(), v.minValue(1, "At least 1."), v.maxValue(100_000, "At most 100,000."))),
  ),
  tags: v.pipe(
    v.string(),
    v.transform((s) => s.split(/[\s,]+/).filter(Boolean)),
    v.maxLength(32, "At most 32 tags."),
    v.check((tags) => tags.every((t) => TAG.test(t)), "Tags look like key=value (letters, digits, _ . : -), separated by commas."),
  ),
});

const EXPIRY = [
  { minutes: 60, label: "1 hour" },
  { minutes: 1440, label: "24 hours" },
  { minutes: 10_080, label: "7 days" },
  { minutes: 43_200, label: "30 days" },
];
const DOWNLOADS = [
  { target: "linux-x64", label: "Linux x64" },
  { target: "linux-arm64", label: "Linux ARM64" },
  { target: "windows-x64", label: "Windows x64" },
  { target: "darwin-x64", label: "macOS Intel" },
  { target: "darwin-arm64", label: "macOS Apple silicon" },
];

/** Enrollment: a token, one-line installers per OS, and the agent binaries. */
export default function AddDevice() {
  document.title = "Add device · SENTpulse";
  const [errors, setErrors] = createSignal<Record<string, string>>({});
  const [serverError, setServerError] = createSignal("");
  const [busy, setBusy] = createSignal(false);
  const [created, setCreated] = createSignal<NewEnrollmentToken | null>(null);
  const [enrolled, setEnrolled] = createSignal<{ id: string; hostname: string }[]>([]);
  const sites = createSites();

  onCleanup(
    onLive((e) => {
      if (e.type === "device.enrolled" && created()) setEnrolled((l) => [...l, { id: e.data.deviceId, hostname: e.data.hostname }]);
    }),
  );

  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const parsed = v.safeParse(TokenForm, {
      siteId: String(form.get("siteId") ?? ""),
      expiresInMinutes: String(form.get("expiresInMinutes") ?? "1440"),
      maxUses: String(form.get("maxUses") ?? ""),
      tags: String(form.get("tags") ?? ""),
    });
    setServerError("");
    if (!parsed.success) {
      setErrors(fieldErrors(parsed.issues));
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      const { siteId, expiresInMinutes, maxUses, tags } = parsed.output;
      const token = await call(
        api.api.v1["enrollment-tokens"].post({
          ...(siteId ? { siteId } : {}),
          expiresInMinutes,
          ...(maxUses ? { maxUses } : {}),
          ...(tags.length ? { tags } : {}),
        }),
      );
      setCreated(token);
      setEnrolled([]);
      queueMicrotask(() => document.getElementById("install-title")?.focus());
    } catch (err) {
      setServerError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="add-device">
      <div class="page-head">
        <div>
          <h1>Add a device</h1>
          <p>Create an enrollment token, then run one command on the machine. It appears in Devices within seconds.</p>
        </div>
      </div>

      <section class="card section" aria-labelledby="token-title">
        <h2 id="token-title">1. Create an enrollment token</h2>
        <form class="token-form" onSubmit={submit} novalidate>
          <div class="field">
            <label for="t-site">Site</label>
            <select id="t-site" name="siteId" data-testid="token-site" aria-describedby="t-site-hint">
              <Show
                when={sites.data()?.length}
                fallback={<option value="">{sites.data() || sites.error() ? "Default site" : "Loading sites…"}</option>}
              >
                <For each={sites.data()}>
                  {(s, i) => (
                    <option value={s.id} selected={i() === 0}>
                      {siteLabel(s)}
                    </option>
                  )}
                </For>
              </Show>
            </select>
            <span class={sites.error() ? "field-error" : "hint"} id="t-site-hint">
              {sites.error() ? `${sites.error()}; devices join the first site.` : "Enrolled devices join this site."}
            </span>
          </div>
          <div class="field">
            <label for="t-expiry">Valid for</label>
            <select id="t-expiry" name="expiresInMinutes">
              <For each={EXPIRY}>
                {(x) => (
                  <option value={x.minutes} selected={x.minutes === 1440}>
                    {x.label}
                  </option>
                )}
              </For>
            </select>
          </div>
          <div class="field">
            <label for="t-uses">Max devices</label>
            <input
              id="t-uses"
              name="maxUses"
              inputmode="numeric"
              placeholder="No limit"
              aria-invalid={!!errors().maxUses}
              aria-describedby="t-uses-hint"
            />
            <span class={errors().maxUses ? "field-error" : "hint"} id="t-uses-hint">
              {errors().maxUses ?? "Empty for unlimited."}
            </span>
          </div>
          <div class="field grow">
            <label for="t-tags">Tags for enrolled devices</label>
            <input id="t-tags" name="tags" placeholder="env=prod, role=web" aria-invalid={!!errors().tags} aria-describedby="t-tags-hint" />
            <span class={errors().tags ? "field-error" : "hint"} id="t-tags-hint">
              {errors().tags ?? "Optional, key=value, separated by commas."}
            </span>
          </div>
          <button type="submit" class="btn btn-primary" data-testid="token-create" disabled={busy()}>
            {busy() ? "Creating…" : created() ? "Create another token" : "Create token"}
          </button>
        </form>
        <Show when={serverError()}>
          <div class="error-note" role="alert">
            {serverError()}
          </div>
        </Show>
      </section>

      <Show
        when={created()}
        fallback={
          <section class="card section muted-card">
            <h2>2. Install the agent</h2>
            <p class="muted">Create a token above and the install commands for Linux, macOS and Windows appear here, ready to copy.</p>
          </section>
        }
      >
        {(t) => (
          <section class="card section" aria-labelledby="install-title">
            <h2 id="install-title" tabindex="-1">
              2. Install the agent
            </h2>
            <p class="muted">
              The token <strong>is shown only now</strong>. It expires {dateTime(t().expiresAt)}
              {t().maxUses ? ` and enrolls at most ${t().maxUses} device${t().maxUses === 1 ? "" : "s"}` : ""}.
            </p>
            <div class="install-grid">
              <div class="field">
                <span class="label">Enrollment token</span>
                <CopyField value={t().token} label="enrollment token" testid="enrollment-token" />
              </div>
              <div class="field">
                <span class="label">Linux (as root)</span>
                <CopyField value={t().install.linux} label="Linux install command" testid="install-linux" />
              </div>
              <div class="field">
                <span class="label">macOS (as root)</span>
                <CopyField value={t().install.macos} label="macOS install command" testid="install-macos" />
              </div>
              <div class="field">
                <span class="label">Windows (PowerShell as Administrator)</span>
                <CopyField value={t().install.windows} label="Windows install command" testid="install-windows" />
              </div>
            </div>
            <div class="enroll-wait" aria-live="polite">
              <Show when={enrolled().length} fallback={<span class="muted">Waiting for a device to enroll…</span>}>
                <For each={enrolled()}>
                  {(d) => (
                    <span>
                      ✓ <A href={`/devices/${d.id}`}>{d.hostname}</A> enrolled.{" "}
                    </span>
                  )}
                </For>
              </Show>
            </div>
          </section>
        )}
      </Show>

      <section class="card section" aria-labelledby="downloads-title">
        <h2 id="downloads-title">Agent downloads</h2>
        <p class="muted">
          For manual installs: download the binary, then run <code>sentpulse-agent enroll --server {location.origin} --token TOKEN</code>{" "}
          and <code>sentpulse-agent install</code>.
        </p>
        <ul class="downloads">
          <For each={DOWNLOADS}>
            {(d) => (
              <li>
                <a class="btn btn-sm" href={`/download/agent/${d.target}`} download="">
                  ↓ {d.label}
                </a>
              </li>
            )}
          </For>
        </ul>
      </section>
    </div>
  );
}
