import { A } from "@solidjs/router";
import { For, Match, Show, Switch, createResource } from "solid-js";
import { api, call, errorMessage } from "../lib/api.ts";
import type { EffectivePolicy } from "../lib/types.ts";
import { ErrorNote } from "./ErrorNote.tsx";
import { SkeletonLines } from "./Skeleton.tsx";

type Source = EffectivePolicy["rules"][number]["source"];

/** Where a setting comes from, in words: "Policy X, via group Y" or "site Acme / HQ". */
function sourceText(s: Source): string {
  if (s.kind === "policy") return s.via ? `policy ${s.name}, attached to ${s.via.type} ${s.via.name}` : `policy ${s.name}`;
  if (s.scope?.type === "organization") return "the whole organization";
  return s.scope?.type === "tag" ? s.name : `${s.scope?.type ?? ""} ${s.name}`;
}

/**
 * The device's effective policy: every policy attached above it (applied, or stopped by a block and
 * which one), and each alert rule and schedule that applies with where it comes from.
 */
export default function DevicePolicies(props: { deviceId: string }) {
  const [view, { refetch }] = createResource(
    () => props.deviceId,
    (id) => call(api.api.v1.devices({ id }).policies.get()),
  );
  return (
    <Switch>
      <Match when={view.error}>
        <ErrorNote message={errorMessage(view.error)} onRetry={refetch} />
      </Match>
      <Match when={view.loading && !view.latest}>
        <SkeletonLines count={4} />
      </Match>
      <Match when={view.latest}>{(v) => <Effective view={v()} />}</Match>
    </Switch>
  );
}

function Effective(props: { view: EffectivePolicy }) {
  return (
    <div class="device-policies" data-testid="device-policies">
      <section class="card section" aria-labelledby="dp-policies">
        <div class="section-head">
          <h2 id="dp-policies">Policies</h2>
          <A class="btn btn-sm" href="/automation?tab=policies">
            Manage policies
          </A>
        </div>
        <Show when={props.view.blocks.length > 0}>
          <p class="muted" data-testid="dp-blocks">
            Inheritance blocked at {props.view.blocks.map((b) => `${b.target.type} ${b.target.name}`).join(", ")}.
          </p>
        </Show>
        <ul class="policy-items" data-testid="dp-policy-list">
          <For
            each={props.view.policies}
            fallback={<li class="muted">No policy is attached to this device, its site, its client, its groups or the organization.</li>}
          >
            {(p) => (
              <li classList={{ muted: !p.applied }}>
                <strong>{p.policyName}</strong>
                <span class="muted">
                  via {p.via.type} {p.via.name}
                </span>
                <Show when={p.enforced}>
                  <span class="pill">enforced</span>
                </Show>
                <Show when={!p.applied}>
                  <span class="pill">
                    blocked at {p.blockedBy?.type} {p.blockedBy?.name}
                  </span>
                </Show>
              </li>
            )}
          </For>
        </ul>
      </section>
      <section class="card section" aria-labelledby="dp-rules">
        <h2 id="dp-rules">Alert rules and checks that apply</h2>
        <ul class="policy-items" data-testid="dp-rule-list">
          <For each={props.view.rules} fallback={<li class="muted">No alert rule applies to this device.</li>}>
            {(r) => (
              <li>
                <strong>{r.rule.name}</strong> <span class="muted">{r.rule.metric}</span>
                <Show when={!r.rule.enabled}>
                  <span class="pill">disabled</span>
                </Show>
                <span class="muted">from {sourceText(r.source)}</span>
              </li>
            )}
          </For>
        </ul>
      </section>
      <section class="card section" aria-labelledby="dp-schedules">
        <h2 id="dp-schedules">Schedules that include it</h2>
        <ul class="policy-items" data-testid="dp-schedule-list">
          <For each={props.view.schedules} fallback={<li class="muted">No schedule runs on this device.</li>}>
            {(x) => (
              <li>
                <strong>{x.schedule.name}</strong> <span class="muted mono">{x.schedule.cron ?? "once"}</span>
                <span class="muted">from {sourceText(x.source)}</span>
              </li>
            )}
          </For>
        </ul>
      </section>
    </div>
  );
}
