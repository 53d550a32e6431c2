import { useSearchParams } from "@solidjs/router";
import { For, Match, Switch } from "solid-js";
import { ChannelsTab } from "./automation-channels.tsx";
import { DeadLettersTab } from "./automation-deadletters.tsx";
import { RulesTab } from "./automation-rules.tsx";
import { SchedulesTab } from "./automation-schedules.tsx";
import { WorkflowsTab } from "./automation-workflows.tsx";
import "./automation.css";

const TABS = [
  { id: "rules", label: "Rules" },
  { id: "channels", label: "Channels" },
  { id: "workflows", label: "Workflows" },
  { id: "schedules", label: "Schedules" },
  { id: "dead-letters", label: "Dead letters" },
] as const;

/** Alerting and automation: rules, notification channels, workflows, schedules, failed deliveries. */
export default function Automation() {
  document.title = "Automation · SENTpulse";
  const [params] = useSearchParams();
  const tab = () => {
    const t = params.tab;
    return TABS.some((x) => x.id === t) ? (t as string) : "rules";
  };
  return (
    <div class="automation">
      <div class="page-head">
        <div>
          <h1>Automation</h1>
          <p>Alert rules, where alerts go, and what runs on its own.</p>
        </div>
      </div>
      <nav class="tabs" aria-label="Automation sections">
        <For each={TABS}>
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
