import { For, createResource, createSignal } from "solid-js";
import { ResourceList } from "../components/ResourceList.tsx";
import { api, call, errorMessage } from "../lib/api.ts";
import type { DeadLetter } from "../lib/automation.ts";
import { dateTime } from "../lib/format.ts";
import { toast } from "../lib/toast.ts";

/** Deliveries that failed every attempt, each with a retry button. */
export function DeadLettersTab() {
  const [items, { refetch }] = createResource(() => call(api.api.v1["notification-dead-letters"].get()).then((r) => r.items));
  const [busy, setBusy] = createSignal<string | null>(null);
  const retry = async (d: DeadLetter) => {
    setBusy(d.id);
    try {
      await call(api.api.v1["notification-dead-letters"]({ id: d.id }).retry.post());
      toast("success", "Delivery queued again.");
      refetch();
    } catch (err) {
      toast("error", errorMessage(err));
    } finally {
      setBusy(null);
    }
  };
  return (
    <section class="card section" aria-labelledby="dl-title">
      <div class="section-head">
        <div>
          <h2 id="dl-title">Dead letters</h2>
          <p class="muted">Notifications that failed every attempt. Fix the channel, then retry.</p>
        </div>
      </div>
      <ResourceList data={items} retry={refetch} empty="No failed deliveries.">
        {(list) => (
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Subject</th>
                  <th scope="col">Event</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Last error</th>
                  <th scope="col">Created</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                <For each={list()}>
                  {(d) => (
                    <tr data-testid="deadletter-row">
                      <td>{d.payload?.subject ?? "—"}</td>
                      <td class="mono">{d.event}</td>
                      <td>{d.attempts}</td>
                      <td class="outcome-bad">{d.lastError ?? "—"}</td>
                      <td>{dateTime(d.createdAt)}</td>
                      <td class="right">
                        <button
                          type="button"
                          class="btn btn-sm"
                          data-testid="deadletter-retry"
                          disabled={busy() === d.id}
                          onClick={() => retry(d)}
                        >
                          {busy() === d.id ? "Retrying…" : "Retry"}
                        </button>
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
