import { useSearchParams } from "@solidjs/router";
import { For, Match, Show, Switch, createResource, createSignal, onMount } from "solid-js";
import { DevicePicker, type PickedDevice } from "../components/DevicePicker.tsx";
import { ResourceList } from "../components/ResourceList.tsx";
import { SkeletonLines } from "../components/Skeleton.tsx";
import { api, call, errorMessage } from "../lib/api.ts";
import { LANGUAGES, type Schedule, type ScheduleBody, text, apply } from "../lib/automation.ts";
import { createGroups, createSites, createTags, siteLabel } from "../lib/fleet.ts";
import { dateTime } from "../lib/format.ts";
import { can } from "../lib/session.ts";
import { toast } from "../lib/toast.ts";

type TargetKind = "devices" | "site" | "tag" | "group" | "policy";
type Source = "library" | "inline" | "workflow" | "wake";

const PRESETS = [
  { cron: "*/15 * * * *", label: "Every 15 minutes" },
  { cron: "0 * * * *", label: "Every hour" },
  { cron: "0 3 * * *", label: "Daily at 03:00" },
  { cron: "0 3 * * 0", label: "Sundays at 03:00" },
  { cron: "0 6 1 * *", label: "1st of the month at 06:00" },
] as const;

/** The browser's own time zone, the natural default for a technician. */
const localZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
const zones = (): string[] => {
  const sv = (Intl as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf;
  return sv ? sv("timeZone") : ["UTC"];
};

function targetText(s: Schedule, siteName: (id: string) => string, name: (id: string) => string): string {
  const t = s.target as { deviceIds?: string[]; siteId?: string; tag?: string; groupId?: string; policyId?: string };
  if (t.deviceIds) return `${t.deviceIds.length} device${t.deviceIds.length === 1 ? "" : "s"}`;
  if (t.siteId) return `site ${siteName(t.siteId)}`;
  if (t.groupId) return `group ${name(t.groupId)}`;
  if (t.policyId) return `policy ${name(t.policyId)}`;
  return `tag ${t.tag}`;
}

/** The runs of one schedule, loaded when opened. */
function Runs(props: { id: string }) {
  const [runs] = createResource(() => call(api.api.v1.schedules({ id: props.id }).runs.get()).then((r) => r.items));
  return (
    <Show when={runs.latest} fallback={<SkeletonLines count={2} />}>
      {(list) => (
        <ul class="runs" data-testid="schedule-runs">
          <For each={list()} fallback={<li class="muted">Not run yet.</li>}>
            {(r) => (
              <li>
                due {dateTime(r.dueAt)} · started {dateTime(r.startedAt)} · {r.deviceCount} device{r.deviceCount === 1 ? "" : "s"}
              </li>
            )}
          </For>
        </ul>
      )}
    </Show>
  );
}

/** Scheduled scripts: cron or one-off, on devices, a site or a tag; enable, delete, run history. */
export function SchedulesTab() {
  const [schedules, { refetch }] = createResource(() => call(api.api.v1.schedules.get()).then((r) => r.items));
  const [scripts] = createResource(() => call(api.api.v1.scripts.get()).then((r) => r.items));
  const sites = createSites();
  const tags = createTags();
  const groups = createGroups();
  const [policies] = createResource(() => call(api.api.v1.policies.get()).then((r) => r.items));
  const [params] = useSearchParams();
  /** The policy a new schedule is for, when the policies tab sent the user here (?policy=). */
  const [presetPolicy, setPresetPolicy] = createSignal("");
  const [when, setWhen] = createSignal<"cron" | "once">("cron");
  const [cron, setCron] = createSignal("0 3 * * *");
  const [targetKind, setTargetKind] = createSignal<TargetKind>("devices");
  const [source, setSource] = createSignal<Source>("library");
  const [workflows] = createResource(() =>
    call(api.api.v1.workflows.get()).then((r) => r.items.filter((w) => (w.trigger as { event: string }).event === "schedule")),
  );
  const [timezone, setTimezone] = createSignal(localZone());
  // replaced after a save to remount the form empty
  const [formKey, setFormKey] = createSignal({});
  const [picked, setPicked] = createSignal<PickedDevice[]>([]);
  const [error, setError] = createSignal("");
  const [busy, setBusy] = createSignal(false);
  const [open, setOpen] = createSignal<string | null>(null);

  onMount(() => {
    if (typeof params.policy === "string" && params.policy) {
      setPresetPolicy(params.policy);
      setTargetKind("policy");
    }
  });
  const nameOf = (id: string) =>
    groups.data()?.find((g) => g.id === id)?.name ?? policies()?.find((p) => p.id === id)?.name ?? `${id.slice(0, 8)}…`;

  const siteName = (id: string) => {
    const s = sites.data()?.find((x) => x.id === id);
    return s ? siteLabel(s) : `${id.slice(0, 8)}…`;
  };

  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    const formEl = e.currentTarget as HTMLFormElement;
    const f = new FormData(formEl);
    setError("");
    const name = text(f, "name");
    if (!name) return setError("Give the schedule a name.");
    let target: ScheduleBody["target"];
    if (targetKind() === "devices") {
      if (picked().length === 0) return setError("Pick at least one device.");
      target = { deviceIds: picked().map((d) => d.id) };
    } else if (targetKind() === "site") {
      const siteId = text(f, "siteId");
      if (!siteId) return setError("Pick a site.");
      target = { siteId };
    } else if (targetKind() === "group") {
      const groupId = text(f, "groupId");
      if (!groupId) return setError("Pick a smart group.");
      target = { groupId };
    } else if (targetKind() === "policy") {
      const policyId = text(f, "policyId");
      if (!policyId) return setError("Pick a policy.");
      target = { policyId };
    } else {
      const tag = text(f, "tag");
      if (!tag) return setError("Enter a tag.");
      target = { tag };
    }
    const timing: Partial<ScheduleBody> = { timezone: text(f, "timezone") || "UTC" };
    if (when() === "cron") {
      if (!cron().trim()) return setError("Enter a cron expression.");
      timing.cron = cron().trim();
    } else {
      const at = text(f, "runAt");
      const date = at ? new Date(at) : null;
      if (!date || Number.isNaN(date.getTime())) return setError("Pick the date and time to run.");
      if (date.getTime() < Date.now()) return setError("That time has passed.");
      // datetime-local is the browser's local time; the server stores the instant.
      timing.runAt = date.toISOString() as unknown as ScheduleBody["runAt"];
    }
    const timeout = Number(text(f, "timeoutSeconds") || 300);
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 86400) return setError("Timeout is 1 to 86400 seconds.");
    let script: Partial<ScheduleBody>;
    if (source() === "wake") {
      script = { wake: true };
    } else if (source() === "workflow") {
      const workflowId = text(f, "workflowId");
      if (!workflowId) return setError('Pick a workflow (one whose trigger is "schedule").');
      script = { workflowId };
    } else if (source() === "library") {
      const scriptId = text(f, "scriptId");
      if (!scriptId) return setError("Pick a script from the library.");
      script = { scriptId };
    } else {
      const content = String(f.get("content") ?? "");
      if (!content.trim()) return setError("Write the script to run.");
      script = { language: text(f, "language") as ScheduleBody["language"], content, timeoutSeconds: timeout };
    }
    setBusy(true);
    try {
      await call(api.api.v1.schedules.post({ name, target, ...timing, ...script } as ScheduleBody));
      toast("success", `Schedule "${name}" created.`);
      setWhen("cron");
      setCron("0 3 * * *");
      setSource("library");
      setTargetKind("devices");
      setPicked([]);
      setTimezone(localZone());
      setFormKey({});
      refetch();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const toggle = async (s: Schedule) => {
    try {
      await call(
        api.api.v1
          .schedules({ id: s.id })({ action: s.enabled ? "disable" : "enable" })
          .post(),
      );
      refetch();
    } catch (err) {
      toast("error", errorMessage(err));
    }
  };
  const remove = (s: Schedule) => apply(() => call(api.api.v1.schedules({ id: s.id }).delete()), refetch, `Schedule "${s.name}" deleted.`);

  return (
    <section class="card section" aria-labelledby="sch-title">
      <div class="section-head">
        <div>
          <h2 id="sch-title">Schedules</h2>
          <p class="muted">
            Run a script on a cron schedule or once. Offline devices run it when they come back, within the command's expiry.
          </p>
        </div>
      </div>
      <Show when={can("schedule:manage") && formKey()} keyed>
        {(_key) => (
          <form class="auto-form" onSubmit={submit} novalidate>
            <div class="field grow">
              <label for="sch-name">Name</label>
              <input id="sch-name" name="name" placeholder="Nightly temp cleanup" />
            </div>
            <div class="field">
              <label for="sch-when">When</label>
              <select id="sch-when" value={when()} onChange={(e) => setWhen(e.currentTarget.value as "cron" | "once")}>
                <option value="cron">Repeating (cron)</option>
                <option value="once">Once</option>
              </select>
            </div>
            <Show
              when={when() === "cron"}
              fallback={
                <div class="field">
                  <label for="sch-at">Run at</label>
                  <input id="sch-at" name="runAt" type="datetime-local" />
                </div>
              }
            >
              <div class="field">
                <label for="sch-cron">Cron expression</label>
                <input
                  id="sch-cron"
                  class="mono"
                  value={cron()}
                  onInput={(e) => setCron(e.currentTarget.value)}
                  aria-describedby="sch-cron-hint"
                />
                <span class="hint" id="sch-cron-hint">
                  minute hour day month weekday
                </span>
              </div>
              <div class="field">
                <label for="sch-preset">Preset</label>
                <select id="sch-preset" onChange={(e) => e.currentTarget.value && setCron(e.currentTarget.value)}>
                  <option value="">Choose…</option>
                  <For each={PRESETS}>{(p) => <option value={p.cron}>{p.label}</option>}</For>
                </select>
              </div>
            </Show>
            <div class="field">
              <label for="sch-tz">Time zone</label>
              <input id="sch-tz" name="timezone" value={timezone()} onInput={(e) => setTimezone(e.currentTarget.value)} list="sch-zones" />
              <datalist id="sch-zones">
                <For each={zones()}>{(z) => <option value={z} />}</For>
              </datalist>
            </div>
            <div class="field">
              <label for="sch-target">On</label>
              <select id="sch-target" value={targetKind()} onChange={(e) => setTargetKind(e.currentTarget.value as TargetKind)}>
                <option value="devices">Devices</option>
                <option value="site">A site</option>
                <option value="tag">A tag</option>
                <option value="group">A smart group</option>
                <option value="policy">A policy's devices</option>
              </select>
            </div>
            <Switch>
              <Match when={targetKind() === "devices"}>
                <DevicePicker id="sch-search" picked={picked()} onChange={setPicked} onError={setError} />
              </Match>
              <Match when={targetKind() === "site"}>
                <div class="field grow">
                  <label for="sch-site">Site</label>
                  <select id="sch-site" name="siteId">
                    <For each={sites.data() ?? []}>{(s) => <option value={s.id}>{siteLabel(s)}</option>}</For>
                  </select>
                </div>
              </Match>
              <Match when={targetKind() === "group"}>
                <div class="field grow">
                  <label for="sch-group">Group</label>
                  <select id="sch-group" name="groupId">
                    <For each={groups.data() ?? []}>{(g) => <option value={g.id}>{g.name}</option>}</For>
                  </select>
                </div>
              </Match>
              <Match when={targetKind() === "policy"}>
                <div class="field grow">
                  <label for="sch-policy">Policy</label>
                  <select id="sch-policy" name="policyId">
                    <For each={policies() ?? []}>
                      {(p) => (
                        <option value={p.id} selected={presetPolicy() === p.id}>
                          {p.name}
                        </option>
                      )}
                    </For>
                  </select>
                </div>
              </Match>
              <Match when={targetKind() === "tag"}>
                <div class="field grow">
                  <label for="sch-tag">Tag</label>
                  <input id="sch-tag" name="tag" list="sch-tags" />
                  <datalist id="sch-tags">
                    <For each={tags.data() ?? []}>{(t) => <option value={t.tag} />}</For>
                  </datalist>
                </div>
              </Match>
            </Switch>
            <div class="field">
              <label for="sch-source">Run</label>
              <select id="sch-source" value={source()} onChange={(e) => setSource(e.currentTarget.value as Source)}>
                <option value="library">A library script</option>
                <option value="inline">A script written here</option>
                <option value="workflow">A workflow</option>
                <option value="wake">Wake the devices (Wake-on-LAN)</option>
              </select>
            </div>
            <Show when={source() === "workflow"}>
              <div class="field grow">
                <label for="sch-workflow">Workflow</label>
                <select id="sch-workflow" name="workflowId">
                  <For each={workflows.latest ?? []} fallback={<option value="">No workflows with the "schedule" trigger yet</option>}>
                    {(w) => <option value={w.id}>{w.name}</option>}
                  </For>
                </select>
              </div>
            </Show>
            <Show when={source() === "wake"}>
              <p class="hint wide">
                Each device that is not online is woken by an online device of its subnet; schedule it a few minutes before a patch window.
              </p>
            </Show>
            <Show
              when={source() !== "inline"}
              fallback={
                <>
                  <div class="field">
                    <label for="sch-lang">Language</label>
                    <select id="sch-lang" name="language">
                      <For each={LANGUAGES}>{(l) => <option value={l}>{l}</option>}</For>
                    </select>
                  </div>
                  <div class="field">
                    <label for="sch-timeout">Timeout (seconds)</label>
                    <input id="sch-timeout" name="timeoutSeconds" type="number" min="1" max="86400" value="300" />
                  </div>
                  <div class="field wide">
                    <label for="sch-content">Script</label>
                    <textarea id="sch-content" name="content" spellcheck={false} />
                  </div>
                </>
              }
            >
              <Show when={source() === "library"}>
                <div class="field grow">
                  <label for="sch-script">Library script</label>
                  <select id="sch-script" name="scriptId">
                    <For each={scripts.latest ?? []} fallback={<option value="">No scripts in the library yet</option>}>
                      {(s) => <option value={s.id}>{s.name}</option>}
                    </For>
                  </select>
                </div>
              </Show>
            </Show>
            <button type="submit" class="btn btn-primary" disabled={busy()} data-testid="schedule-create">
              {busy() ? "Scheduling…" : "Create schedule"}
            </button>
          </form>
        )}
      </Show>
      <Show when={error()}>
        <div class="error-note form-error" role="alert">
          {error()}
        </div>
      </Show>
      <ResourceList data={schedules} retry={refetch} empty="No schedules yet.">
        {(list) => (
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">When</th>
                  <th scope="col">On</th>
                  <th scope="col">Next run</th>
                  <th scope="col">Last run</th>
                  <th scope="col">Enabled</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                <For each={list()}>
                  {(s) => (
                    <>
                      <tr data-testid="schedule-row">
                        <td>
                          {s.name}
                          <Show when={s.workflowId}>
                            {" "}
                            <span class="tag">workflow</span>
                          </Show>
                          <Show when={s.wake}>
                            {" "}
                            <span class="tag">wake</span>
                          </Show>
                        </td>
                        <td class="mono">
                          {s.cron ?? `once ${dateTime(s.runAt)}`} <span class="muted">({s.timezone})</span>
                        </td>
                        <td>{targetText(s, siteName, nameOf)}</td>
                        <td>{s.nextRunAt ? dateTime(s.nextRunAt) : "—"}</td>
                        <td>{s.lastRunAt ? dateTime(s.lastRunAt) : "never"}</td>
                        <td>
                          <input
                            type="checkbox"
                            checked={s.enabled}
                            aria-label={`Enable schedule ${s.name}`}
                            disabled={!can("schedule:manage")}
                            onChange={() => toggle(s)}
                          />
                        </td>
                        <td class="right">
                          <button
                            type="button"
                            class="btn btn-sm"
                            aria-expanded={open() === s.id}
                            onClick={() => setOpen(open() === s.id ? null : s.id)}
                          >
                            Runs
                          </button>{" "}
                          <Show when={can("schedule:manage")}>
                            <button type="button" class="btn btn-sm btn-danger" onClick={() => remove(s)}>
                              Delete
                            </button>
                          </Show>
                        </td>
                      </tr>
                      <Show when={open() === s.id}>
                        <tr>
                          <td colspan="7">
                            <Runs id={s.id} />
                          </td>
                        </tr>
                      </Show>
                    </>
                  )}
                </For>
              </tbody>
            </table>
          </div>
        )}
      </ResourceList>
    </section>
  );
}
