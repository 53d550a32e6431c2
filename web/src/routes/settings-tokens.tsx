import { A } from "@solidjs/router";
import { For, Match, Show, Switch, createResource, createSignal } from "solid-js";
import { ConfirmDialog } from "../components/ConfirmDialog.tsx";
import { ErrorNote } from "../components/ErrorNote.tsx";
import { SkeletonLines } from "../components/Skeleton.tsx";
import { api, call, errorMessage } from "../lib/api.ts";
import { dateTime } from "../lib/format.ts";
import { toast } from "../lib/toast.ts";
import type { EnrollmentToken } from "../lib/types.ts";

function tokenState(t: EnrollmentToken): { label: string; live: boolean } {
  if (t.revokedAt) return { label: "revoked", live: false };
  if (new Date(t.expiresAt).getTime() <= Date.now()) return { label: "expired", live: false };
  if (t.maxUses != null && t.uses >= t.maxUses) return { label: "used up", live: false };
  return { label: "active", live: true };
}

/** Enrollment tokens: list with uses and expiry, revoke the live ones. */
export function EnrollmentTokens() {
  const [tokens, { refetch }] = createResource(() => call(api.api.v1["enrollment-tokens"].get()).then((r) => r.items));
  const [revoking, setRevoking] = createSignal<EnrollmentToken | null>(null);
  const revoke = async (t: EnrollmentToken) => {
    try {
      await call(api.api.v1["enrollment-tokens"]({ id: t.id }).delete());
      toast("success", `Token ${t.prefix}… revoked.`);
      refetch();
    } catch (err) {
      toast("error", errorMessage(err));
    }
  };
  return (
    <section class="card section" aria-labelledby="tokens-title">
      <div class="section-head">
        <div>
          <h2 id="tokens-title">Enrollment tokens</h2>
          <p class="muted">Tokens let new agents join. Revoke a token you no longer need; enrolled devices stay.</p>
        </div>
        <A href="/add-device" class="btn">
          New token
        </A>
      </div>
      <Switch>
        <Match when={tokens.error}>
          <ErrorNote message={errorMessage(tokens.error)} onRetry={refetch} />
        </Match>
        <Match when={tokens.loading && !tokens.latest}>
          <SkeletonLines count={3} />
        </Match>
        <Match when={tokens.latest?.length === 0}>
          <p class="muted">
            No enrollment tokens yet. <A href="/add-device">Add a device</A> to create one.
          </p>
        </Match>
        <Match when={tokens.latest}>
          {(list) => (
            <div class="table-wrap">
              <table class="table">
                <thead>
                  <tr>
                    <th scope="col">Token</th>
                    <th scope="col">Tags</th>
                    <th scope="col">Uses</th>
                    <th scope="col">Expires</th>
                    <th scope="col">State</th>
                    <th scope="col">
                      <span class="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  <For each={list()}>
                    {(t) => (
                      <tr data-testid="token-row">
                        <td class="mono">{t.prefix}…</td>
                        <td>
                          <div class="tags wrap">
                            <For each={t.tags} fallback={<span class="muted">—</span>}>
                              {(tag) => <span class="tag">{tag}</span>}
                            </For>
                          </div>
                        </td>
                        <td>
                          {t.uses}
                          {t.maxUses != null ? ` / ${t.maxUses}` : ""}
                        </td>
                        <td>{dateTime(t.expiresAt)}</td>
                        <td>
                          <span class={`pill ${tokenState(t).live ? "pill-ok" : ""}`}>{tokenState(t).label}</span>
                        </td>
                        <td class="right">
                          <Show when={tokenState(t).live}>
                            <button type="button" class="btn btn-sm btn-danger" onClick={() => setRevoking(t)}>
                              Revoke
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
        </Match>
      </Switch>
      <ConfirmDialog
        open={!!revoking()}
        title={`Revoke token ${revoking()?.prefix ?? ""}…?`}
        message="Agents can no longer enroll with it. Devices already enrolled are not affected."
        confirmLabel="Revoke token"
        danger
        onConfirm={() => {
          const t = revoking();
          if (t) revoke(t);
        }}
        onClose={() => setRevoking(null)}
      />
    </section>
  );
}
