import { useSearchParams } from "@solidjs/router";
import { For, Match, Show, Switch, createResource, createSignal, onMount } from "solid-js";
import * as v from "valibot";
import { ResourceList } from "../components/ResourceList.tsx";
import { CheckFields } from "./automation-rule-check.tsx";
import { api, call, errorMessage } from "../lib/api.ts";
import { METRICS, OPERATORS, type Rule, type RuleBody, SEVERITIES, text, apply } from "../lib/automation.ts";
import { clientsOf, createGroups, createSites, createTags, siteLabel } from "../lib/fleet.ts";
import { fieldErrors } from "../lib/forms.ts";
import { can } from "../lib/session.ts";
import { toast } from "../lib/toast.ts";

const RuleForm = v.object({
  name: v.pipe(v.string(), v.nonEmpty("Give the rule a name."), v.maxLength(200)),
  threshold: v.pipe(v.number("Enter a number."), v.minValue(-1000000), v.maxValue(1000000)),
  durationSeconds: v.pipe(v.number("Enter seconds."), v.integer(), v.minValue(0), v.maxValue(86400)),
  cooldownSeconds: v.pipe(v.number("Enter seconds."), v.integer(), v.minValue(0), v.maxValue(604800)),
});

type ScopeType = "organization" | "client" | "site" | "device" | "tag" | "group" | "policy";
type CheckBody = NonNullable<RuleBody["check"]>;

const METRIC_OPTIONS = [
  ...METRICS,
  { value: "offline", label: "Offline" },
  { value: "script_exit_code", label: "Script check (exit code)" },
  // read by the endpoint toolbox: services every minute, health and antivirus every 15 minutes
  { value: "service_state", label: "Service not running" },
  { value: "disk_failing", label: "Failing disk (S.M.A.R.T.)" },
  { value: "temperature_c", label: "Temperature °C (hottest)" },
  { value: "antivirus_disabled", label: "Antivirus off" },
  { value: "antivirus_definitions_age_days", label: "Antivirus definitions age (days)" },
] as const;

/** Metrics that are a state, not a number: they fire while it holds (no operator or threshold). */
const FLAGS = new Set(["offline", "service_state", "disk_failing", "antivirus_disabled"]);
const FLAG_TEXT: Record<string, string> = {
  disk_failing: "a disk fails its S.M.A.R.T. check or has reallocated or pending sectors",
  antivirus_disabled: "no antivirus protection is on",
};

/** A service name as the server takes it (the protocol's pattern): no shell metacharacter. */
const SERVICE_NAME = /^[A-Za-z0-9_][A-Za-z0-9 _.:@+-]{0,199}$/;

/** A stored check as the API takes it back: the library reference, or the inline script. */
function checkBody(c: NonNullable<Rule["check"]>): CheckBody {
  const spec = c.spec as { language: CheckBody["language"]; content: string; args: string[]; timeoutSeconds: number };
  return c.scriptId
    ? { scriptId: c.scriptId, args: spec.args, timeoutSeconds: spec.timeoutSeconds, intervalSeconds: c.intervalSeconds }
    : {
        language: spec.language,
        content: spec.content,
        args: spec.args,
        timeoutSeconds: spec.timeoutSeconds,
        intervalSeconds: c.intervalSeconds,
      };
}

function conditionText(r: Rule): string {
  if (r.check) return `exit code ${r.operator} ${r.threshold}, checked every ${r.check.intervalSeconds}s`;
  if (r.metric === "offline") return `offline for ${r.durationSeconds}s`;
  if (r.metric === "service_state") return `service ${r.service} not running for ${r.durationSeconds}s`;
  if (FLAG_TEXT[r.metric]) return `${FLAG_TEXT[r.metric]} for ${r.durationSeconds}s`;
  return `${r.metric}${r.mount ? ` (${r.mount})` : ""} ${r.operator} ${r.threshold} for ${r.durationSeconds}s`;
}

/** Where a rule applies, in words: names of clients, sites, groups and policies when known. */
function scopeText(r: Rule, names: Map<string, string>): string {
  const s = r.scope as { type: ScopeType; id?: string; tag?: string };
  if (s.type === "organization") return "Whole organization";
  if (s.type === "tag") return `tag: ${s.tag}`;
  const name = s.id ? names.get(s.id) : undefined;
  return `${s.type}: ${name ?? `${s.id?.slice(0, 8)}…`}`;
}

/** Alert rules: list with an enable toggle, and one form to create or edit. */
export function RulesTab() {
  const [rules, { refetch }] = createResource(() => call(api.api.v1["alert-rules"].get()).then((r) => r.items));
  // channels are listed to those who manage notifications; others see rules and workflows without their names
  const [channels] = createResource(
    () => can("notification:manage"),
    () => call(api.api.v1["notification-channels"].get()).then((r) => r.items),
  );
  const sites = createSites();
  const tags = createTags();
  const groups = createGroups();
  const [policies] = createResource(() => call(api.api.v1.policies.get()).then((r) => r.items));
  const [params] = useSearchParams();
  /** The policy a new rule is for, when the policies tab sent the user here (?policy=). */
  const [presetId, setPresetId] = createSignal("");
  const names = () => {
    const m = new Map<string, string>();
    for (const s of sites.data() ?? []) {
      m.set(s.id, siteLabel(s));
      m.set(s.clientId, s.clientName);
    }
    for (const g of groups.data() ?? []) m.set(g.id, g.name);
    for (const p of policies() ?? []) m.set(p.id, p.name);
    return m;
  };
  // A new object on every edit/cancel/save remounts the form with the rule's values (no form.reset()).
  const [form, setForm] = createSignal<{ rule: Rule | null }>({ rule: null });
  const editing = () => form().rule;
  const [scopeType, setScopeType] = createSignal<ScopeType>("organization");
  const [metric, setMetric] = createSignal<string>("cpu_percent");
  const [checkSource, setCheckSource] = createSignal<"library" | "inline">("library");
  const [scripts] = createResource(() => call(api.api.v1.scripts.get()).then((r) => r.items));
  const [errors, setErrors] = createSignal<Record<string, string>>({});
  const [busy, setBusy] = createSignal(false);
  let formEl!: HTMLFormElement;

  const clients = () => clientsOf(sites.data());
  const scopeId = (r: Rule | null) => (r?.scope as { id?: string } | undefined)?.id ?? presetId();

  onMount(() => {
    const policy = typeof params.policy === "string" ? params.policy : "";
    if (policy) {
      setPresetId(policy);
      setScopeType("policy");
    }
  });

  const edit = (r: Rule | null) => {
    setScopeType(((r?.scope as { type: ScopeType } | undefined)?.type ?? "organization") as ScopeType);
    setMetric(r?.metric ?? "cpu_percent");
    setCheckSource(r?.check && !r.check.scriptId ? "inline" : "library");
    setErrors({});
    setForm({ rule: r });
    if (r) formEl.scrollIntoView({ block: "nearest" });
  };

  const bodyOf = (r: Rule, enabled: boolean): RuleBody => ({
    name: r.name,
    metric: r.metric,
    operator: r.operator,
    threshold: r.threshold,
    durationSeconds: r.durationSeconds,
    severity: r.severity,
    cooldownSeconds: r.cooldownSeconds,
    scope: r.scope as RuleBody["scope"],
    channelIds: r.channelIds,
    ...(r.check ? { check: checkBody(r.check) } : {}),
    ...(r.mount ? { mount: r.mount } : {}),
    ...(r.service ? { service: r.service } : {}),
    enabled,
  });

  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    const f = new FormData(formEl);
    const parsed = v.safeParse(RuleForm, {
      name: text(f, "name"),
      threshold: FLAGS.has(metric()) ? 0 : text(f, "threshold") === "" ? Number.NaN : Number(text(f, "threshold")),
      durationSeconds: Number(text(f, "durationSeconds") || 0),
      cooldownSeconds: Number(text(f, "cooldownSeconds") || 0),
    });
    if (!parsed.success) return setErrors(fieldErrors(parsed.issues));
    const st = scopeType();
    const target = text(f, "scopeValue");
    if (st !== "organization" && !target) return setErrors({ scope: "Pick what the rule applies to." });
    if (metric() === "service_state" && !SERVICE_NAME.test(text(f, "service")))
      return setErrors({ service: "Name the service: letters, digits, spaces and _ . : @ + - (e.g. Spooler, atd, nginx.service)." });
    let check: CheckBody | undefined;
    if (metric() === "script_exit_code") {
      const intervalSeconds = Number(text(f, "checkInterval"));
      if (!Number.isInteger(intervalSeconds) || intervalSeconds < 10 || intervalSeconds > 86400)
        return setErrors({ check: "Check every 10 to 86400 seconds." });
      if (checkSource() === "library") {
        if (!text(f, "checkScriptId")) return setErrors({ check: "Pick the script to run." });
        check = { scriptId: text(f, "checkScriptId"), intervalSeconds };
      } else {
        const content = String(f.get("checkContent") ?? "");
        if (!content.trim()) return setErrors({ check: "Write the check script." });
        check = { language: text(f, "checkLanguage") as CheckBody["language"], content, intervalSeconds };
      }
    }
    setErrors({});
    const body = {
      ...parsed.output,
      metric: text(f, "metric"),
      operator: FLAGS.has(metric()) ? ">" : text(f, "operator"),
      severity: text(f, "severity"),
      scope: st === "organization" ? { type: st } : st === "tag" ? { type: st, tag: target } : { type: st, id: target },
      channelIds: f.getAll("channelIds").map(String),
      ...(check ? { check } : {}),
      ...(metric() === "disk_free_percent" && text(f, "mount") ? { mount: text(f, "mount") } : {}),
      ...(metric() === "service_state" ? { service: text(f, "service") } : {}),
      enabled: f.get("enabled") === "on",
    } as RuleBody;
    setBusy(true);
    try {
      const cur = editing();
      if (cur) await call(api.api.v1["alert-rules"]({ id: cur.id }).put(body));
      else await call(api.api.v1["alert-rules"].post(body));
      toast("success", `Rule "${body.name}" saved.`);
      edit(null);
      refetch();
    } catch (err) {
      setErrors({ form: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };

  const toggle = (r: Rule) => apply(() => call(api.api.v1["alert-rules"]({ id: r.id }).put(bodyOf(r, !r.enabled))), refetch);
  const remove = (r: Rule) => apply(() => call(api.api.v1["alert-rules"]({ id: r.id }).delete()), refetch);

  const err = (k: string) => (
    <Show when={errors()[k]}>
      <span class="field-error" id={`r-${k}-err`}>
        {errors()[k]}
      </span>
    </Show>
  );

  return (
    <section class="card section" aria-labelledby="rules-title">
      <div class="section-head">
        <div>
          <h2 id="rules-title">{editing() ? `Edit rule "${editing()?.name}"` : "Alert rules"}</h2>
          <p class="muted">
            A rule fires when a metric stays past its threshold for the duration (offline: when the device has been offline that long).
            Changing rules needs the admin role.
          </p>
        </div>
      </div>
      <Show when={can("alert:configure") && form()} keyed>
        {(_key) => (
          <form ref={formEl} class="auto-form" onSubmit={submit} novalidate>
            <div class="field grow">
              <label for="r-name">Name</label>
              <input id="r-name" name="name" value={editing()?.name ?? ""} aria-invalid={!!errors().name} aria-describedby="r-name-err" />
              {err("name")}
            </div>
            <div class="field">
              <label for="r-metric">Metric</label>
              <select
                id="r-metric"
                name="metric"
                onChange={(e) => {
                  setMetric(e.currentTarget.value);
                  if (e.currentTarget.value === "script_exit_code" && !editing()) {
                    (formEl.elements.namedItem("operator") as HTMLSelectElement).value = ">";
                    (formEl.elements.namedItem("threshold") as HTMLInputElement).value = "0";
                    (formEl.elements.namedItem("durationSeconds") as HTMLInputElement).value = "0";
                  }
                }}
              >
                <For each={METRIC_OPTIONS}>
                  {(m) => (
                    <option value={m.value} selected={editing()?.metric === m.value}>
                      {m.label}
                    </option>
                  )}
                </For>
              </select>
            </div>
            <div class="field" hidden={FLAGS.has(metric())}>
              <label for="r-op">Operator</label>
              <select id="r-op" name="operator">
                <For each={OPERATORS}>{(o) => <option selected={editing()?.operator === o}>{o}</option>}</For>
              </select>
            </div>
            <div class="field" hidden={FLAGS.has(metric())}>
              <label for="r-threshold">Threshold</label>
              <input
                id="r-threshold"
                name="threshold"
                type="number"
                step="any"
                value={editing()?.threshold ?? 90}
                aria-describedby="r-threshold-err"
              />
              {err("threshold")}
            </div>
            <div class="field">
              <label for="r-duration">For (seconds)</label>
              <input id="r-duration" name="durationSeconds" type="number" min="0" value={editing()?.durationSeconds ?? 300} />
              {err("durationSeconds")}
            </div>
            <div class="field">
              <label for="r-cooldown">Cooldown (seconds)</label>
              <input id="r-cooldown" name="cooldownSeconds" type="number" min="0" value={editing()?.cooldownSeconds ?? 3600} />
              {err("cooldownSeconds")}
            </div>
            <div class="field">
              <label for="r-sev">Severity</label>
              <select id="r-sev" name="severity">
                <For each={SEVERITIES}>{(s) => <option selected={(editing()?.severity ?? "warning") === s}>{s}</option>}</For>
              </select>
            </div>
            <div class="field">
              <label for="r-scope">Applies to</label>
              <select id="r-scope" value={scopeType()} onChange={(e) => setScopeType(e.currentTarget.value as ScopeType)}>
                <option value="organization">Whole organization</option>
                <option value="client">Client</option>
                <option value="site">Site</option>
                <option value="device">Device</option>
                <option value="tag">Tag</option>
                <option value="group">Smart group</option>
                <option value="policy">Policy (where it is attached)</option>
              </select>
            </div>
            <Show when={scopeType() !== "organization"}>
              <div class="field grow">
                <label for="r-scope-value">
                  {
                    { tag: "Tag", device: "Device ID", site: "Site", client: "Client", group: "Group", policy: "Policy", organization: "" }[
                      scopeType()
                    ]
                  }
                </label>
                <Switch fallback={<input id="r-scope-value" name="scopeValue" value={scopeId(editing())} list="r-tags" />}>
                  <Match when={scopeType() === "client"}>
                    <select id="r-scope-value" name="scopeValue">
                      <For each={clients()}>
                        {(c) => (
                          <option value={c.id} selected={scopeId(editing()) === c.id}>
                            {c.name}
                          </option>
                        )}
                      </For>
                    </select>
                  </Match>
                  <Match when={scopeType() === "site"}>
                    <select id="r-scope-value" name="scopeValue">
                      <For each={sites.data() ?? []}>
                        {(s) => (
                          <option value={s.id} selected={scopeId(editing()) === s.id}>
                            {siteLabel(s)}
                          </option>
                        )}
                      </For>
                    </select>
                  </Match>
                  <Match when={scopeType() === "group"}>
                    <select id="r-scope-value" name="scopeValue">
                      <For each={groups.data() ?? []}>
                        {(g) => (
                          <option value={g.id} selected={scopeId(editing()) === g.id}>
                            {g.name}
                          </option>
                        )}
                      </For>
                    </select>
                  </Match>
                  <Match when={scopeType() === "policy"}>
                    <select id="r-scope-value" name="scopeValue">
                      <For each={policies() ?? []}>
                        {(p) => (
                          <option value={p.id} selected={scopeId(editing()) === p.id}>
                            {p.name}
                          </option>
                        )}
                      </For>
                    </select>
                  </Match>
                  <Match when={scopeType() === "tag"}>
                    <input
                      id="r-scope-value"
                      name="scopeValue"
                      value={(editing()?.scope as { tag?: string } | undefined)?.tag ?? ""}
                      list="r-tags"
                    />
                  </Match>
                </Switch>
                <datalist id="r-tags">
                  <For each={tags.data() ?? []}>{(t) => <option value={t.tag} />}</For>
                </datalist>
                {err("scope")}
              </div>
            </Show>
            <Show when={metric() === "disk_free_percent"}>
              <div class="field">
                <label for="r-mount">Mount (optional)</label>
                <input id="r-mount" name="mount" placeholder="fullest one" value={editing()?.mount ?? ""} aria-describedby="r-mount-hint" />
                <span class="hint" id="r-mount-hint">
                  e.g. / or C:
                </span>
              </div>
            </Show>
            <Show when={metric() === "service_state"}>
              <div class="field">
                <label for="r-service">Service</label>
                <input
                  id="r-service"
                  name="service"
                  placeholder="Spooler"
                  value={editing()?.service ?? ""}
                  aria-invalid={!!errors().service}
                  aria-describedby="r-service-hint r-service-err"
                />
                <span class="hint" id="r-service-hint">
                  Windows service, systemd unit, init script or launchd label; checked every minute
                </span>
                {err("service")}
              </div>
            </Show>
            <Show when={metric() === "script_exit_code"}>
              <CheckFields
                rule={editing()}
                source={checkSource()}
                onSource={setCheckSource}
                scripts={scripts.latest ?? []}
                error={err("check")}
              />
            </Show>
            <fieldset class="field wide">
              <legend>Notify channels</legend>
              <For each={channels.latest ?? []} fallback={<span class="muted">No channels yet; add one under Channels.</span>}>
                {(c) => (
                  <label class="check">
                    <input type="checkbox" name="channelIds" value={c.id} checked={editing()?.channelIds.includes(c.id) ?? false} />{" "}
                    {c.name}
                  </label>
                )}
              </For>
            </fieldset>
            <label class="check">
              <input type="checkbox" name="enabled" checked={editing()?.enabled ?? true} /> Enabled
            </label>
            <button type="submit" class="btn btn-primary" disabled={busy()} data-testid="rule-save">
              {busy() ? "Saving…" : editing() ? "Save rule" : "Create rule"}
            </button>
            <Show when={editing()}>
              <button type="button" class="btn" onClick={() => edit(null)}>
                Cancel
              </button>
            </Show>
          </form>
        )}
      </Show>
      <Show when={errors().form}>
        <div class="error-note form-error" role="alert">
          {errors().form}
        </div>
      </Show>
      <ResourceList data={rules} retry={refetch} empty="No alert rules yet.">
        {(list) => (
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Condition</th>
                  <th scope="col">Severity</th>
                  <th scope="col">Scope</th>
                  <th scope="col">Enabled</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                <For each={list()}>
                  {(r) => (
                    <tr data-testid="rule-row">
                      <td>{r.name}</td>
                      <td class="mono">{conditionText(r)}</td>
                      <td>
                        <span class={`sev sev-${r.severity}`}>{r.severity}</span>
                      </td>
                      <td>{scopeText(r, names())}</td>
                      <td>
                        <input
                          type="checkbox"
                          checked={r.enabled}
                          disabled={!can("alert:configure")}
                          aria-label={`Enable rule ${r.name}`}
                          onChange={() => toggle(r)}
                        />
                      </td>
                      <td class="right">
                        <Show when={can("alert:configure")}>
                          <button type="button" class="btn btn-sm" onClick={() => edit(r)}>
                            Edit
                          </button>{" "}
                          <button type="button" class="btn btn-sm btn-danger" onClick={() => remove(r)}>
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
    </section>
  );
}
