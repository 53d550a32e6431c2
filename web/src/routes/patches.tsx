import { A } from "@solidjs/router";
import { For, Show, createResource, createSignal } from "solid-js";
import {
  APPROVAL_LABEL,
  APPROVAL_PILL,
  CLASS_PILL,
  COMPLIANCE_LABEL,
  COMPLIANCE_PILL,
  STATE_LABEL,
  STATE_PILL,
  UpdateIds,
} from "../components/patches/labels.tsx";
import { Segmented } from "../components/Segmented.tsx";
import { PatchPolicies } from "../components/patches/PatchPolicies.tsx";
import { Polled } from "../components/toolbox/Polled.tsx";
import { poll } from "../components/toolbox/poll.ts";
import { api, call, errorMessage } from "../lib/api.ts";
import { dateTime } from "../lib/format.ts";
import { can } from "../lib/session.ts";
import { toast } from "../lib/toast.ts";
import "./patches.css";
import { UpdateSearch } from "../components/patches/UpdateSearch.tsx";

type Filter = "awaiting" | "approved" | "failed" | "all";
const FILTERS: { value: Filter; label: string }[] = [
  { value: "awaiting", label: "Awaiting approval" },
  { value: "approved", label: "Approved" },
  { value: "failed", label: "Failed" },
  { value: "all", label: "All open" },
];

/**
 * Patching across the fleet: compliance (how many devices are fully patched, which miss critical or
 * security updates, where installs failed; CSV and PDF reports), the updates awaiting a decision
 * (approve or deny, per version, for every device of the organization), and a software search
 * ("which devices have zoom below 6").
 */
export default function Patches() {
  document.title = "Patches · SENTpulse";
  const [scope, setScope] = createSignal<{ clientId?: string; groupId?: string }>({});
  const [clients] = createResource(() => call(api.api.v1.clients.get()).then((r) => r.items));
  const [groups] = createResource(() => call(api.api.v1.groups.get()).then((r) => r.items));
  const report = poll(() => call(api.api.v1.reports["patch-compliance"].get({ query: { limit: 200, ...scope() } })), 15_000);
  /** The report downloads, for the scope shown. */
  const reportHref = (format: "csv" | "pdf") => `/api/v1/reports/patch-compliance?${new URLSearchParams({ format, ...scope() })}`;
  const [filter, setFilter] = createSignal<Filter>("awaiting");
  /** A package name, title words, or a CVE / KB / advisory id to narrow the list to. */
  const [updateSearch, setUpdateSearch] = createSignal("");
  const query = () => ({
    ...(updateSearch() ? { q: updateSearch() } : {}),
    ...(filter() === "all"
      ? {}
      : filter() === "failed"
        ? { state: "failed" as const }
        : { approval: filter() as "awaiting" | "approved", state: "pending" as const }),
  });
  const updates = poll(() => call(api.api.v1.updates.get({ query: { ...query(), limit: 500 } })), 15_000);
  const [busy, setBusy] = createSignal(false);
  const [search, setSearch] = createSignal<{ q: string; version?: string }>();
  const found = poll(async () => {
    const s = search();
    return s ? call(api.api.v1.software.get({ query: { q: s.q, ...(s.version ? { version: s.version } : {}), limit: 200 } })) : null;
  });

  const decide = async (ids: string[], decision: "approve" | "deny") => {
    setBusy(true);
    try {
      const r = await call(api.api.v1.updates.approvals.post({ updateIds: ids, decision }));
      toast(
        "success",
        `${decision === "approve" ? "Approved" : "Denied"} ${r.decided} update${r.decided === 1 ? "" : "s"} ${r.scope === "organization" ? "for every device" : "on your devices"}`,
      );
      updates.reload();
      report.reload();
    } catch (e) {
      toast("error", errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="patches-page">
      <div class="page-head">
        <div>
          <h1>Patches</h1>
          <p>Operating-system and third-party updates on every device: compliance, approvals and software.</p>
        </div>
        <div class="row-actions">
          <select
            class="input"
            aria-label="Compliance of"
            data-testid="compliance-scope"
            onChange={(e) => {
              const [kind, id] = e.currentTarget.value.split(":");
              setScope(kind === "client" && id ? { clientId: id } : kind === "group" && id ? { groupId: id } : {});
              report.reload();
            }}
          >
            <option value="">Whole organization</option>
            <For each={clients() ?? []}>{(c) => <option value={`client:${c.id}`}>Client: {c.name}</option>}</For>
            <For each={groups() ?? []}>{(g) => <option value={`group:${g.id}`}>Group: {g.name}</option>}</For>
          </select>
          <a class="btn" href={reportHref("csv")} download="" data-testid="compliance-csv">
            CSV report
          </a>
          <a class="btn" href={reportHref("pdf")} download="" data-testid="compliance-pdf">
            PDF report
          </a>
        </div>
      </div>

      <Polled list={report} loading="Computing compliance…" lines={3}>
        {(r) => {
          const s = () => r().summary;
          const pct = () => (s().devices > 0 ? Math.round((s().compliant / s().devices) * 100) : 0);
          return (
            <>
              <div class="patch-cards" data-testid="compliance-summary">
                <div class="card patch-card">
                  <span class="patch-figure" data-testid="compliance-percent">
                    {pct()}%
                  </span>
                  <span class="muted">
                    fully patched ({s().compliant} of {s().devices})
                  </span>
                </div>
                <div class="card patch-card">
                  <span class="patch-figure">{s().missingCritical}</span>
                  <span class="muted">devices missing critical updates</span>
                </div>
                <div class="card patch-card">
                  <span class="patch-figure">{s().missingSecurity}</span>
                  <span class="muted">devices missing security updates</span>
                </div>
                <div class="card patch-card">
                  <span class="patch-figure">{s().failed}</span>
                  <span class="muted">devices with a failed install</span>
                </div>
                <div class="card patch-card">
                  <span class="patch-figure">{s().overdue}</span>
                  <span class="muted">devices with updates overdue (&gt; 14 days)</span>
                </div>
              </div>
              <section class="card section" aria-label="Devices">
                <h2>Devices</h2>
                <Show when={r().items.length > 0} fallback={<p class="muted">No devices yet.</p>}>
                  <div class="table-wrap">
                    <table class="table" data-testid="compliance-table">
                      <thead>
                        <tr>
                          <th scope="col">Device</th>
                          <th scope="col">Client / site</th>
                          <th scope="col">Status</th>
                          <th scope="col" class="num">
                            Critical
                          </th>
                          <th scope="col" class="num">
                            Security
                          </th>
                          <th scope="col" class="num">
                            Pending
                          </th>
                          <th scope="col">Last scan</th>
                        </tr>
                      </thead>
                      <tbody>
                        <For each={r().items}>
                          {(d) => (
                            <tr data-testid="compliance-row" data-hostname={d.hostname}>
                              <td>
                                <A href={`/devices/${d.deviceId}?tab=updates`}>{d.hostname}</A>
                              </td>
                              <td class="muted">
                                {d.clientName} / {d.siteName}
                              </td>
                              <td>
                                <span class={COMPLIANCE_PILL[d.status] ?? "pill"} data-testid="compliance-status">
                                  {COMPLIANCE_LABEL[d.status] ?? d.status}
                                </span>
                              </td>
                              <td class="num">{d.missingCritical}</td>
                              <td class="num">{d.missingSecurity}</td>
                              <td class="num">{d.pending}</td>
                              <td class="muted">{d.scannedAt ? dateTime(d.scannedAt) : "never"}</td>
                            </tr>
                          )}
                        </For>
                      </tbody>
                    </table>
                  </div>
                </Show>
                <Show when={r().history.length > 1}>
                  <p class="muted small">
                    History:{" "}
                    {r()
                      .history.map((h) => `${h.day} ${h.devices ? Math.round((h.compliant / h.devices) * 100) : 0}%`)
                      .join(" · ")}
                  </p>
                </Show>
              </section>
            </>
          );
        }}
      </Polled>

      <section class="card section" aria-label="Updates">
        <div class="section-head">
          <h2>Updates</h2>
          <UpdateSearch
            testId="updates-search"
            onSearch={(q) => {
              setUpdateSearch(q);
              updates.reload();
            }}
          />
          <Segmented
            label="Which updates"
            options={FILTERS}
            value={filter()}
            onChange={(v) => {
              setFilter(v);
              updates.reload();
            }}
          />
        </div>
        <Polled list={updates} loading="Reading updates…" lines={4}>
          {(u) => (
            <Show
              when={u().items.length > 0}
              fallback={
                <p class="muted" data-testid="fleet-updates-empty">
                  Nothing here.
                </p>
              }
            >
              <div class="table-wrap">
                <table class="table" data-testid="fleet-updates">
                  <thead>
                    <tr>
                      <th scope="col">Device</th>
                      <th scope="col">Update</th>
                      <th scope="col">Classification</th>
                      <th scope="col">Version</th>
                      <th scope="col">Approval</th>
                      <th scope="col">State</th>
                      <th scope="col">
                        <span class="sr-only">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={u().items}>
                      {(x) => (
                        <tr data-testid="fleet-update" data-name={x.name}>
                          <td>
                            <A href={`/devices/${x.deviceId}?tab=updates`}>{x.hostname}</A>
                          </td>
                          <td>
                            <strong>{x.name}</strong>
                            <div class="muted small">{x.origin ?? x.source}</div>
                            <UpdateIds ids={x.ids} />
                          </td>
                          <td>
                            <span class={CLASS_PILL[x.classification] ?? "pill"}>{x.classification}</span>
                          </td>
                          <td>
                            {x.currentVersion ?? "—"} → <strong>{x.version}</strong>
                          </td>
                          <td>
                            <span class={APPROVAL_PILL[x.approval] ?? "pill"}>{APPROVAL_LABEL[x.approval] ?? x.approval}</span>
                          </td>
                          <td>
                            <span class={STATE_PILL[x.state] ?? "pill"}>{STATE_LABEL[x.state] ?? x.state}</span>
                          </td>
                          <td class="row-actions">
                            <Show when={can("patch:approve") && x.approval !== "approved"}>
                              <button type="button" class="btn btn-sm" disabled={busy()} onClick={() => decide([x.id], "approve")}>
                                Approve
                              </button>
                            </Show>
                            <Show when={can("patch:approve") && x.approval !== "denied"}>
                              <button type="button" class="btn btn-sm btn-ghost" disabled={busy()} onClick={() => decide([x.id], "deny")}>
                                Deny
                              </button>
                            </Show>
                          </td>
                        </tr>
                      )}
                    </For>
                  </tbody>
                </table>
              </div>
            </Show>
          )}
        </Polled>
      </section>

      <PatchPolicies
        onChange={() => {
          updates.reload();
          report.reload();
        }}
      />

      <section class="card section" aria-label="Software search">
        <h2>Software across the fleet</h2>
        <form
          class="software-search"
          onSubmit={(e) => {
            e.preventDefault();
            const f = new FormData(e.currentTarget);
            const q = String(f.get("q") ?? "").trim();
            const op = String(f.get("op") ?? "");
            const v = String(f.get("version") ?? "").trim();
            if (!q) return;
            setSearch({ q, ...(v ? { version: `${op}${v}` } : {}) });
            found.reload();
          }}
        >
          <input class="input" name="q" placeholder="Program name (zoom, openssl*)" aria-label="Program name" maxLength={128} required />
          <select class="input" name="op" aria-label="Version condition">
            <option value="<">below</option>
            <option value="<=">at most</option>
            <option value="=">exactly</option>
            <option value=">=">at least</option>
            <option value=">">above</option>
          </select>
          <input class="input" name="version" placeholder="Version (optional)" aria-label="Version" maxLength={128} />
          <button type="submit" class="btn btn-primary" data-testid="software-search">
            Search
          </button>
        </form>
        <Show when={found.error()}>{(m) => <p class="error-text">{m()}</p>}</Show>
        <Show when={found.data()}>
          {(res) => (
            <>
              <p class="muted" data-testid="software-found">
                {res().devices} device{res().devices === 1 ? "" : "s"} · {res().total} installation{res().total === 1 ? "" : "s"}
              </p>
              <div class="table-wrap">
                <table class="table" data-testid="software-results">
                  <thead>
                    <tr>
                      <th scope="col">Device</th>
                      <th scope="col">Program</th>
                      <th scope="col">Version</th>
                      <th scope="col">Publisher</th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={res().items}>
                      {(i) => (
                        <tr>
                          <td>
                            <A href={`/devices/${i.deviceId}?tab=updates`}>{i.hostname}</A>
                          </td>
                          <td>{i.name}</td>
                          <td>{i.version}</td>
                          <td class="muted">{i.publisher ?? "—"}</td>
                        </tr>
                      )}
                    </For>
                  </tbody>
                </table>
              </div>
            </>
          )}
        </Show>
      </section>
    </div>
  );
}
