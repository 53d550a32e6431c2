import { useSearchParams } from "@solidjs/router";
import { For, Match, Switch } from "solid-js";
import { ChannelsTab } from "./automation-channels.tsx";
import { DeadLettersTab } from "./automation-deadletters.tsx";
import { PoliciesTab } from "./automation-policies.tsx";
import { RulesTab } from "./automation-rules.tsx";
import { SchedulesTab } from "./automation-schedules.tsx";
import { WorkflowsTab } from "./automation-workflows.tsx";
import { can } from "../lib/session.ts";
import "./automation.css";

/** The sections, each shown to those holding the permission its list needs. */
const TABS = [
  { id: "rules", label: "Rules", need: "device:view" },
  { id: "policies", label: "Policies", need: "device:view" },
  { id: "channels", label: "Channels", need: "notification:manage" },
  { id: "workflows", label: "Workflows", need: "device:view" },
  { id: "schedules", label: "Schedules", need: "device:view" },
  { id: "dead-letters", label: "Dead letters", need: "notification:manage" },
] as const;

/** Alerting and automation: rules, notification channels, workflows, schedules, failed deliveries. */
export default function Automation() {
  document.title = "Automation · SENTpulse";
  const [params] = useSearchParams();
  const tab = () => {
    const t = params.tab;
    return TABS.some((x) => x.id === t && can(x.need)) ? (t as string) : "rules";
  };
  return (
    <div class="automation">
      <div class="page-head">
        <div>
          <h1>Automation</h1>
          <p>Alert rules, policies that bundle them, where alerts go, and what runs on its own.</p>
        </div>
      </div>
      <nav class="tabs" aria-label="Automation sections">
        <For each={TABS.filter((x) => can(x.need))}>
          {(t) => (
            // a plain <a> (the router still handles the click): <A> would mark every /automation?tab= link current
            <a href={`/automation?tab=${t.id}`} aria-current={tab() === t.id ? "page" : undefined} data-testid={`automation-tab-${t.id}`}>
              {t.label}
            </a>
          )}
        </For>
      </nav>
      <Switch>
        <Match when={tab() === "rules"}>
          <RulesTab />
        </Match>
        <Match when={tab() === "policies"}>
          <PoliciesTab />
        </Match>
        <Match when={tab() === "channels"}>
          <ChannelsTab />
        </Match>
        <Match when={tab() === "workflows"}>
          <WorkflowsTab />
        </Match>
        <Match when={tab() === "schedules"}>
          <SchedulesTab />
        </Match>
        <Match when={tab() === "dead-letters"}>
          <DeadLettersTab />
        </Match>
      </Switch>
    </div>
  );
}
