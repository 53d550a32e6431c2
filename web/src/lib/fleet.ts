import { createSignal } from "solid-js";
import { api, call, errorMessage } from "./api.ts";
import type { Site, TagUse } from "./types.ts";

/** "Client / Site", or just the site when it is named like its client. */
export const siteLabel = (s: { name: string; clientName: string }): string =>
  s.clientName === s.name ? s.name : `${s.clientName} / ${s.name}`;

/**
 * Data for a menu, loaded once without suspending the page (unlike a resource read under the
 * shell's Suspense): `data` is null until it arrives, `error` holds the server's message.
 */
function createMenuData<T>(fetch: () => Promise<T>) {
  const [data, setData] = createSignal<T | null>(null);
  const [error, setError] = createSignal("");
  const load = () =>
    fetch().then(
      (d) => {
        setData(() => d);
        setError("");
      },
      (e) => setError(errorMessage(e)),
    );
  void load();
  return { data, error, reload: load };
}

/** The clients the sites belong to, once each, in the sites' order. */
export const clientsOf = (sites: readonly Site[] | null): { id: string; name: string }[] => {
  const seen = new Map<string, string>();
  for (const s of sites ?? []) seen.set(s.clientId, s.clientName);
  return [...seen].map(([id, name]) => ({ id, name }));
};

/** Sites of the organization with their client and device count, by client then site name. */
export const createSites = () => createMenuData<Site[]>(() => call(api.api.v1.sites.get()).then((r) => r.items));

/** Smart groups of the organization, by name. */
export const createGroups = () => createMenuData(() => call(api.api.v1.groups.get()).then((r) => r.items));

/** Tags in use on devices, most used first. */
export const createTags = () => createMenuData<TagUse[]>(() => call(api.api.v1.tags.get()).then((r) => r.items));
