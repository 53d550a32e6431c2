import { For, Show, createResource, createSignal } from "solid-js";
import { ConfirmDialog } from "../components/ConfirmDialog.tsx";
import { ResourceList } from "../components/ResourceList.tsx";
import { api, call, errorMessage } from "../lib/api.ts";
import { can } from "../lib/session.ts";
import { toast } from "../lib/toast.ts";
import { SiteTransferCap } from "./files-site-cap.tsx";

type Target = { kind: "client" | "site"; id: string; name: string };

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;

/**
 * Clients and their sites: the hierarchy devices belong to. Admins add clients and sites, rename and
 * delete them; a client or site with devices is not deleted (the server says so).
 */
export function ClientsAndSites() {
  const [clients, { refetch }] = createResource(() => call(api.api.v1.clients.get()).then((r) => r.items));
  const [removing, setRemoving] = createSignal<Target | null>(null);
  const canEdit = () => can("clients:manage");

  const run = async (what: () => Promise<unknown>, done: string) => {
    try {
      await what();
      toast("success", done);
      refetch();
      return true;
    } catch (err) {
      toast("error", errorMessage(err));
      return false;
    }
  };
  const addClient = async (e: SubmitEvent) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const name = String(new FormData(form).get("name") ?? "").trim();
    if (name && (await run(() => call(api.api.v1.clients.post({ name })), `Client ${name} added.`))) form.reset();
  };
  const addSite = async (e: SubmitEvent, clientId: string) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const name = String(new FormData(form).get("name") ?? "").trim();
    if (name && (await run(() => call(api.api.v1.sites.post({ clientId, name })), `Site ${name} added.`))) form.reset();
  };
  const remove = (t: Target) =>
    run(
      () => call(t.kind === "client" ? api.api.v1.clients({ id: t.id }).delete() : api.api.v1.sites({ id: t.id }).delete()),
      `${t.kind === "client" ? "Client" : "Site"} ${t.name} deleted.`,
    );

  return (
    <section class="card section" aria-labelledby="clients-title">
      <div class="section-head">
        <div>
          <h2 id="clients-title">Clients and sites</h2>
          <p class="muted">Devices belong to a site of a client. Enrollment tokens are made per site (Add device).</p>
        </div>
        <Show when={canEdit()}>
          <form class="inline-form compact" onSubmit={addClient} data-testid="client-add">
            <label class="sr-only" for="client-name">
              New client
            </label>
            <input id="client-name" name="name" placeholder="New client" maxLength={200} required />
            <button class="btn" type="submit">
              Add client
            </button>
          </form>
        </Show>
      </div>
      <ResourceList data={clients} retry={refetch} empty="No clients yet.">
        {(list) => (
          <ul class="client-list">
            <For each={list()}>
              {(c) => (
                <li class="client" data-testid="client-row">
                  <div class="client-head">
                    <strong>{c.name}</strong>
                    <span class="muted">
                      {c.sites.length} {c.sites.length === 1 ? "site" : "sites"} · {c.sites.reduce((n, s) => n + s.deviceCount, 0)} devices
                    </span>
                    <Show when={canEdit()}>
                      <button
                        class="btn btn-sm btn-danger"
                        type="button"
                        onClick={() => setRemoving({ kind: "client", id: c.id, name: c.name })}
                      >
                        Delete
                      </button>
                    </Show>
                  </div>
                  <ul class="site-list">
                    <For each={c.sites}>
                      {(s) => (
                        <li data-testid="site-row">
                          <span>{s.name}</span>
                          <span class="muted">{count(s.deviceCount, "device")}</span>
                          <SiteTransferCap
                            siteId={s.id}
                            siteName={s.name}
                            bps={s.filesRateLimitBps}
                            canEdit={canEdit()}
                            onSaved={refetch}
                          />
                          <Show when={canEdit()}>
                            <button
                              class="btn btn-sm btn-danger"
                              type="button"
                              onClick={() => setRemoving({ kind: "site", id: s.id, name: s.name })}
                            >
                              Delete
                            </button>
                          </Show>
                        </li>
                      )}
                    </For>
                  </ul>
                  <Show when={canEdit()}>
                    <form class="inline-form compact" onSubmit={(e) => addSite(e, c.id)} data-testid="site-add">
                      <label class="sr-only" for={`site-${c.id}`}>
                        New site of {c.name}
                      </label>
                      <input id={`site-${c.id}`} name="name" placeholder="New site" maxLength={200} required />
                      <button class="btn btn-sm" type="submit">
                        Add site
                      </button>
                    </form>
                  </Show>
                </li>
              )}
            </For>
          </ul>
        )}
      </ResourceList>
      <ConfirmDialog
        open={!!removing()}
        title={`Delete ${removing()?.kind ?? ""} ${removing()?.name ?? ""}?`}
        message={`${removing()?.kind === "client" ? "Its sites go with it." : "Its enrollment tokens go with it."} A site with devices cannot be deleted: move its devices first.`}
        confirmLabel="Delete"
        danger
        onConfirm={() => {
          const t = removing();
          if (t) remove(t);
          setRemoving(null);
        }}
        onClose={() => setRemoving(null)}
      />
    </section>
  );
}
