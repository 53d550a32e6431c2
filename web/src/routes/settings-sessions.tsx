import { For, Show, createResource } from "solid-js";
import { RelativeTime } from "../components/RelativeTime.tsx";
import { ResourceList } from "../components/ResourceList.tsx";
import { api, call, errorMessage } from "../lib/api.ts";
import { dateTime } from "../lib/format.ts";
import { toast } from "../lib/toast.ts";

type Session = Exclude<Awaited<ReturnType<typeof api.api.v1.auth.sessions.get>>["data"], null>["items"][number];

/** A short name for a browser from its user agent ("Firefox on Linux"); the raw string is the cell's title. */
function browserName(ua: string | null): string {
  if (!ua) return "unknown browser";
  const browser = /Edg\//.test(ua)
    ? "Edge"
    : /Firefox\//.test(ua)
      ? "Firefox"
      : /Chrom(e|ium)\//.test(ua)
        ? "Chrome"
        : /Safari\//.test(ua)
          ? "Safari"
          : "";
  const os = /Windows/.test(ua)
    ? "Windows"
    : /Mac OS X/.test(ua)
      ? "macOS"
      : /Android/.test(ua)
        ? "Android"
        : /iPhone|iPad/.test(ua)
          ? "iOS"
          : /Linux/.test(ua)
            ? "Linux"
            : "";
  return browser && os ? `${browser} on ${os}` : browser || os || ua.slice(0, 60);
}

/** Settings → Security: where the caller is signed in, each session signed out on its own. */
export function Sessions() {
  const [sessions, { refetch }] = createResource(() => call(api.api.v1.auth.sessions.get()).then((r) => r.items));
  const revoke = async (s: Session) => {
    try {
      await call(api.api.v1.auth.sessions({ id: s.id }).delete());
      toast("success", `Signed out ${browserName(s.userAgent)}.`);
      refetch();
    } catch (err) {
      toast("error", errorMessage(err));
    }
  };
  return (
    <section class="card section" aria-labelledby="sessions-title">
      <div class="section-head">
        <div>
          <h2 id="sessions-title">Where you are signed in</h2>
          <p class="muted">Sign out any session you do not recognize; changing your password signs out all but this one.</p>
        </div>
      </div>
      <ResourceList data={sessions} retry={refetch} empty="No sessions.">
        {(list) => (
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Browser</th>
                  <th scope="col">Address</th>
                  <th scope="col">Signed in</th>
                  <th scope="col">Last used</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                <For each={list()}>
                  {(s) => (
                    <tr data-testid="session-row">
                      <td title={s.userAgent ?? ""}>{browserName(s.userAgent)}</td>
                      <td class="mono">{s.ip ?? "—"}</td>
                      <td>{dateTime(s.createdAt)}</td>
                      <td>
                        <RelativeTime value={s.lastUsedAt} />
                      </td>
                      <td class="right">
                        <Show
                          when={!s.current}
                          fallback={
                            <span class="pill" data-testid="session-current">
                              this browser
                            </span>
                          }
                        >
                          <button type="button" class="btn btn-sm btn-danger" onClick={() => revoke(s)} data-testid="session-revoke">
                            Sign out
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
      </ResourceList>
    </section>
  );
}
