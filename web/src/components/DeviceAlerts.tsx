import { For, Show, createSignal, onCleanup } from "solid-js";
import { api, call, errorMessage } from "../lib/api.ts";
import { onLive, onLiveOpen } from "../lib/live.ts";
import type { Alert } from "../lib/types.ts";
import { AlertItem } from "./AlertItem.tsx";
import { ErrorNote } from "./ErrorNote.tsx";
import { SkeletonLines } from "./Skeleton.tsx";

/** The latest alerts of one device, refreshed live when one is raised or resolved. */
export function DeviceAlerts(props: { deviceId: string }) {
  const [items, setItems] = createSignal<Alert[] | null>(null);
  const [error, setError] = createSignal("");
  const load = async () => {
    try {
      const page = await call(api.api.v1.alerts.get({ query: { deviceId: props.deviceId, limit: 20 } }));
      setItems(page.items);
      setError("");
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  load();
  onCleanup(onLiveOpen(load));
  onCleanup(
    onLive((e) => {
      if ((e.type === "alert.created" || e.type === "alert.resolved") && e.data.deviceId === props.deviceId) load();
    }),
  );
  const replace = (a: Alert) => setItems((list) => list?.map((x) => (x.id === a.id ? a : x)) ?? null);
  return (
    <section class="card device-alerts" aria-labelledby="device-alerts-title">
      <div class="section-head section">
        <h2 id="device-alerts-title">Alerts</h2>
      </div>
      <Show when={error()}>
        <div class="section">
          <ErrorNote message={error()} onRetry={load} />
        </div>
      </Show>
      <Show when={items()} fallback={<div class="section">{!error() && <SkeletonLines count={3} />}</div>}>
        {(list) => (
          <Show
            when={list().length}
            fallback={
              <p class="section muted">No alerts for this device. Alerts appear here the moment a threshold or the offline check fires.</p>
            }
          >
            <ul class="alert-list" aria-live="polite">
              <For each={list()}>{(a) => <AlertItem alert={a} onChange={replace} />}</For>
            </ul>
          </Show>
        )}
      </Show>
    </section>
  );
}
