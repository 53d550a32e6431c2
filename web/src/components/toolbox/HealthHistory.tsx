import { For, Show, createResource, createSignal } from "solid-js";
import { api, call } from "../../lib/api.ts";
import { Segmented } from "../Segmented.tsx";

type Kind = "temperature" | "fan" | "reallocated_sectors" | "battery_health" | "antivirus_definitions_age_days";
const KINDS: readonly { value: Kind; label: string; unit: string }[] = [
  { value: "temperature", label: "Temperatures", unit: "°C" },
  { value: "fan", label: "Fans", unit: "RPM" },
  { value: "reallocated_sectors", label: "Reallocated sectors", unit: "" },
  { value: "battery_health", label: "Battery health", unit: "%" },
  { value: "antivirus_definitions_age_days", label: "Definitions age", unit: "days" },
];
const fmt = (v: number) => (Math.round(v * 10) / 10).toLocaleString();

/** A line of the points in a small box (min to max over the box's height), for one row of the table. */
function Spark(props: { points: [number, number][] }) {
  const path = () => {
    const p = props.points;
    if (p.length < 2) return "";
    const [t0, t1] = [p[0]?.[0] ?? 0, p.at(-1)?.[0] ?? 1];
    const vs = p.map((x) => x[1]);
    const [lo, hi] = [Math.min(...vs), Math.max(...vs)];
    return p
      .map(
        ([t, v]) =>
          `${(((t - t0) / Math.max(1, t1 - t0)) * 118 + 1).toFixed(1)},${(23 - ((v - lo) / Math.max(1e-9, hi - lo)) * 22).toFixed(1)}`,
      )
      .join(" ");
  };
  return (
    <Show when={path()} fallback={<span class="muted small">one reading</span>}>
      <svg class="spark" viewBox="0 0 120 24" width="120" height="24" role="img" aria-label="trend">
        <polyline points={path()} fill="none" stroke="currentColor" stroke-width="1.5" />
      </svg>
    </Show>
  );
}

/**
 * The health readings kept over the last 7 days (every 15 minutes while a health alert rule watches
 * the device, and each read a technician asked for): per sensor, disk, battery or product.
 */
export function HealthHistory(props: { deviceId: string }) {
  const [kind, setKind] = createSignal<Kind>("temperature");
  const [data] = createResource(kind, (k) =>
    call(api.api.v1.devices({ id: props.deviceId }).health.history.get({ query: { kind: k, days: 7 } })),
  );
  const unit = () => KINDS.find((k) => k.value === kind())?.unit ?? "";
  return (
    <>
      <div class="section-head">
        <h3>Last 7 days</h3>
        <Segmented label="Reading" options={KINDS} value={kind()} onChange={setKind} />
      </div>
      <Show when={!data.error} fallback={<p class="error-note">Could not load the history.</p>}>
        <Show
          when={(data.latest?.items.length ?? 0) > 0}
          fallback={
            <p class="muted" data-testid="health-history-empty">
              {data.loading ? "Loading…" : "No readings kept yet."}
            </p>
          }
        >
          <div class="table-wrap">
            <table class="table toolbox-table" data-testid="health-history">
              <thead>
                <tr>
                  <th scope="col">Of</th>
                  <th scope="col" class="num">
                    Latest
                  </th>
                  <th scope="col" class="num">
                    Min / max
                  </th>
                  <th scope="col">Trend</th>
                  <th scope="col" class="num">
                    Readings
                  </th>
                </tr>
              </thead>
              <tbody>
                <For each={data.latest?.items ?? []}>
                  {(r) => (
                    <tr data-testid="health-history-row">
                      <td>{r.subject}</td>
                      <td class="num">
                        {fmt(r.latest)} {unit()}
                      </td>
                      <td class="num">
                        {fmt(r.min)} / {fmt(r.max)}
                      </td>
                      <td>
                        <Spark points={r.points as [number, number][]} />
                      </td>
                      <td class="num">{r.count}</td>
                    </tr>
                  )}
                </For>
              </tbody>
            </table>
          </div>
        </Show>
      </Show>
    </>
  );
}
