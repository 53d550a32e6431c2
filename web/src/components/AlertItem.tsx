import { A } from "@solidjs/router";
import { Show, createSignal } from "solid-js";
import { ALERT_TYPE_LABEL, acknowledge } from "../lib/alerts.ts";
import { errorMessage } from "../lib/api.ts";
import { dateTime } from "../lib/format.ts";
import { can } from "../lib/session.ts";
import { toast } from "../lib/toast.ts";
import type { Alert } from "../lib/types.ts";
import { RelativeTime } from "./RelativeTime.tsx";

/** One alert: severity, message, device, state, age, and Acknowledge while it is open and unacknowledged. */
export function AlertItem(props: { alert: Alert; showDevice?: boolean; onChange: (a: Alert) => void }) {
  const [busy, setBusy] = createSignal(false);
  const a = () => props.alert;
  const ack = async () => {
    setBusy(true);
    try {
      props.onChange(await acknowledge(a().id));
      toast("success", `Acknowledged: ${a().message}`);
    } catch (e) {
      toast("error", errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <li class="alert-item" data-testid="alert-row" data-state={a().state} data-acknowledged={a().acknowledgedAt ? "true" : "false"}>
      <span class={`sev sev-${a().severity}`}>{a().severity}</span>
      <div class="alert-main">
        <p class="alert-message">{a().message}</p>
        <p class="alert-meta">
          <Show when={props.showDevice}>
            <A href={`/devices/${a().deviceId}`} class="alert-device">
              {a().deviceHostname}
            </A>
            {" · "}
          </Show>
          {ALERT_TYPE_LABEL[a().type] ?? a().type} · <RelativeTime value={a().createdAt} />
          <Show when={a().resolvedAt}>{(r) => <> · resolved {dateTime(r())}</>}</Show>
        </p>
      </div>
      <span class={`pill ${a().state === "resolved" ? "pill-ok" : ""}`}>{a().state}</span>
      <div class="alert-actions">
        <Show
          when={!a().acknowledgedAt}
          fallback={
            <span class="muted acked" title={`Acknowledged ${dateTime(a().acknowledgedAt)}`}>
              ✓ Acknowledged
            </span>
          }
        >
          <Show when={a().state !== "resolved" && can("alert:manage")} fallback={<span class="muted acked">—</span>}>
            <button
              type="button"
              class="btn btn-sm"
              data-testid="alert-ack"
              disabled={busy()}
              onClick={ack}
              aria-label={`Acknowledge: ${a().message}`}
            >
              {busy() ? "Acknowledging…" : "Acknowledge"}
            </button>
          </Show>
        </Show>
      </div>
    </li>
  );
}
