import { For, Show } from "solid-js";
import { api, call } from "../../lib/api.ts";
import { HealthHistory } from "./HealthHistory.tsx";
import { Polled } from "./Polled.tsx";
import { poll } from "./poll.ts";

const UNIT = { temperature: "°C", fan: "RPM", voltage: "V" } as const;
const dash = (v: number | null, unit = "") => (v === null ? "—" : `${v.toLocaleString()}${unit}`);

/** Hardware health read now: S.M.A.R.T. of each disk, sensors, batteries, and what could not be read. */
export default function HealthTab(props: { deviceId: string }) {
  const h = poll(() => call(api.api.v1.devices({ id: props.deviceId }).health.get()));
  return (
    <section class="card section toolbox" aria-label="Hardware health">
      <div class="section-head toolbox-head">
        <h2>Hardware health</h2>
        <button type="button" class="btn btn-sm" onClick={h.reload}>
          Refresh
        </button>
      </div>
      <Polled list={h} loading="Reading sensors and disks…" lines={4}>
        {(d) => (
          <>
            <h3>Disks (S.M.A.R.T.)</h3>
            <Show when={d().disks.length > 0} fallback={<p class="muted">No disk reported S.M.A.R.T. data.</p>}>
              <div class="table-wrap">
                <table class="table toolbox-table" data-testid="health-disks">
                  <thead>
                    <tr>
                      <th scope="col">Disk</th>
                      <th scope="col">Health</th>
                      <th scope="col" class="num">
                        Temperature
                      </th>
                      <th scope="col" class="num">
                        Reallocated
                      </th>
                      <th scope="col" class="num">
                        Pending
                      </th>
                      <th scope="col" class="num">
                        Wear
                      </th>
                      <th scope="col" class="num">
                        Power-on hours
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={d().disks}>
                      {(disk) => (
                        <tr data-testid="health-disk">
                          <td>
                            <strong>{disk.model || disk.device}</strong>
                            <div class="muted small">
                              {disk.device} · {disk.protocol} · {disk.serial}
                            </div>
                          </td>
                          <td>
                            <span class={disk.passed === false ? "sev sev-critical" : disk.passed ? "pill pill-ok" : "pill"}>
                              {disk.passed === false ? "failing" : disk.passed ? "passed" : "unknown"}
                            </span>
                          </td>
                          <td class="num">{dash(disk.temperatureC, " °C")}</td>
                          <td class="num">{dash(disk.reallocatedSectors)}</td>
                          <td class="num">{dash(disk.pendingSectors)}</td>
                          <td class="num">{dash(disk.wearPercent, " %")}</td>
                          <td class="num">{dash(disk.powerOnHours)}</td>
                        </tr>
                      )}
                    </For>
                  </tbody>
                </table>
              </div>
            </Show>
            <h3>Antivirus</h3>
            <Show when={d().antivirus.length > 0} fallback={<p class="muted">No antivirus reported.</p>}>
              <div class="table-wrap">
                <table class="table toolbox-table" data-testid="health-antivirus">
                  <thead>
                    <tr>
                      <th scope="col">Product</th>
                      <th scope="col">Engine</th>
                      <th scope="col">Real-time</th>
                      <th scope="col">Definitions</th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={d().antivirus}>
                      {(a) => (
                        <tr data-testid="health-av">
                          <td>
                            <strong>{a.product}</strong>
                          </td>
                          <td>
                            <span class={a.enabled === false ? "sev sev-critical" : a.enabled ? "pill pill-ok" : "pill"}>
                              {a.enabled === false ? "not running" : a.enabled ? "running" : "unknown"}
                            </span>
                          </td>
                          <td>{a.realTime === null ? "—" : a.realTime ? "on" : "off"}</td>
                          <td>
                            <span class={a.outdated ? "sev sev-critical" : "pill pill-ok"}>
                              {a.definitions === null ? "missing" : a.outdated ? "outdated" : "current"}
                            </span>
                            <span class="muted small">
                              {a.definitions ? ` ${a.definitions}` : ""}
                              {a.definitionsUpdatedAt ? ` · ${new Date(a.definitionsUpdatedAt).toLocaleDateString()}` : ""}
                            </span>
                          </td>
                        </tr>
                      )}
                    </For>
                  </tbody>
                </table>
              </div>
            </Show>
            <h3>Sensors</h3>
            <Show when={d().sensors.length > 0} fallback={<p class="muted">No sensors reported.</p>}>
              <div class="table-wrap">
                <table class="table toolbox-table">
                  <thead>
                    <tr>
                      <th scope="col">Chip</th>
                      <th scope="col">Sensor</th>
                      <th scope="col" class="num">
                        Value
                      </th>
                      <th scope="col" class="num">
                        High / critical
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={d().sensors}>
                      {(s) => (
                        <tr>
                          <td>{s.chip}</td>
                          <td>{s.label}</td>
                          <td class="num">
                            <span class={s.critical !== undefined && s.value >= s.critical ? "sev sev-critical" : undefined}>
                              {s.value.toLocaleString()} {UNIT[s.kind]}
                            </span>
                          </td>
                          <td class="num">
                            {s.max ?? "—"} / {s.critical ?? "—"}
                          </td>
                        </tr>
                      )}
                    </For>
                  </tbody>
                </table>
              </div>
            </Show>
            <Show when={d().batteries.length > 0}>
              <h3>Batteries</h3>
              <ul>
                <For each={d().batteries}>
                  {(b) => (
                    <li>
                      {b.name}: {b.status}, charge {dash(b.chargePercent, " %")}, health {dash(b.healthPercent, " %")}, {dash(b.cycleCount)}{" "}
                      cycles
                    </li>
                  )}
                </For>
              </ul>
            </Show>
            <Show when={d().notes.length > 0}>
              <ul class="muted small" data-testid="health-notes">
                <For each={d().notes}>{(n) => <li>{n}</li>}</For>
              </ul>
            </Show>
            <HealthHistory deviceId={props.deviceId} />
          </>
        )}
      </Polled>
    </section>
  );
}
