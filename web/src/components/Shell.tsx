import { A, type RouteSectionProps, useLocation, useNavigate } from "@solidjs/router";
import { Show, Suspense, createEffect, createSignal, on, onCleanup, onMount } from "solid-js";
import { acknowledgedAt } from "../lib/alerts.ts";
import { api, call } from "../lib/api.ts";
import { liveState, onLive, onLiveOpen, startLive, stopLive } from "../lib/live.ts";
import { expiredAt } from "../lib/session-events.ts";
import { can, loadSession, loginHref, markSignedOut, principal, signOut } from "../lib/session.ts";
import { toast } from "../lib/toast.ts";
import { Logo } from "./Logo.tsx";
import { SkeletonLines } from "./Skeleton.tsx";
import { ThemeToggle } from "./ThemeToggle.tsx";

/** The badge is also recounted this often, for alerts acknowledged by someone else. */
const ALERT_COUNT_MS = 60_000;
const LIVE_LABEL = { idle: "Offline", connecting: "Connecting", open: "Live", reconnecting: "Reconnecting" } as const;

/** The signed-in frame: top navigation, live connection, session guard, toasts. */
export function Shell(props: RouteSectionProps) {
  const navigate = useNavigate();
  const location = useLocation();
  const [open, setOpen] = createSignal<number | null>(null);
  const here = () => location.pathname + location.search;
  const toLogin = () => navigate(loginHref(here()), { replace: true });

  onMount(async () => {
    const p = principal() ?? (await loadSession());
    if (!p) toLogin();
  });

  // Any 401 from the API: the session expired; go to login and come back here afterwards.
  createEffect(
    on(
      expiredAt,
      () => {
        const wasSignedIn = !!principal();
        markSignedOut();
        stopLive();
        if (wasSignedIn) toast("info", "Your session ended. Sign in again to continue.");
        toLogin();
      },
      { defer: true },
    ),
  );

  // Route changes move focus to the page, so screen readers start at the new content.
  createEffect(
    on(
      () => location.pathname,
      () => document.getElementById("main")?.focus({ preventScroll: true }),
      { defer: true },
    ),
  );

  // The badge counts alerts that still need someone: unresolved and not yet acknowledged.
  const refreshAlertCount = () =>
    call(api.api.v1.alerts.get({ query: { state: "unresolved", acknowledged: false, limit: 1 } }))
      .then((p) => setOpen(p.total))
      .catch(() => {});

  createEffect(() => {
    if (!principal()) return;
    startLive();
    refreshAlertCount();
  });
  createEffect(on(acknowledgedAt, refreshAlertCount, { defer: true }));
  const alertTimer = setInterval(() => {
    if (principal() && document.visibilityState === "visible") refreshAlertCount();
  }, ALERT_COUNT_MS);
  onCleanup(() => clearInterval(alertTimer));
  onCleanup(stopLive);
  onCleanup(onLiveOpen(refreshAlertCount));
  onCleanup(
    onLive((e) => {
      if (e.type === "alert.created") {
        setOpen((n) => (n ?? 0) + 1);
        if (e.data.severity === "critical") toast("error", `Critical alert: ${e.data.message}`, `/devices/${e.data.deviceId}`);
      } else if (e.type === "alert.resolved") {
        refreshAlertCount();
      } else if (e.type === "device.enrolled") {
        toast("success", `New device enrolled: ${e.data.hostname}`, `/devices/${e.data.deviceId}`);
      }
    }),
  );

  const logout = async () => {
    stopLive();
    try {
      await signOut();
    } catch {}
    navigate("/login", { replace: true });
  };

  return (
    <div class="app">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <A href="/devices" class="brand" aria-label="SENTpulse home">
          <Logo />
          <span>
            SENT<b>pulse</b>
          </span>
        </A>
        <nav class="mainnav" aria-label="Main">
          <A href="/devices">Devices</A>
          <A href="/groups" data-testid="groups-nav">
            Groups
          </A>
          <A href="/alerts">
            Alerts
            <Show when={open()}>
              {(n) => (
                <>
                  <span class="nav-count" aria-hidden="true">
                    {n() > 999 ? "999+" : n()}
                  </span>
                  <span class="sr-only">({n()} unresolved, not acknowledged)</span>
                </>
              )}
            </Show>
          </A>
          <A href="/patches" data-testid="patches-nav">
            Patches
          </A>
          <A href="/scripts">Scripts</A>
          <A href="/automation" data-testid="automation-nav">
            Automation
          </A>
          <Show when={can("enrollment:manage")}>
            <A href="/add-device">Add device</A>
          </Show>
          <A href="/settings">Settings</A>
          <Show when={can("audit:view")}>
            <A href="/audit" data-testid="audit-nav">
              Audit log
            </A>
          </Show>
        </nav>
        <div class="topbar-end">
          <span class="live-indicator" data-state={liveState()} title={`Live updates: ${LIVE_LABEL[liveState()]}`}>
            <span class="dot" aria-hidden="true" />
            <span class="label">{LIVE_LABEL[liveState()]}</span>
          </span>
          <ThemeToggle />
          <span class="user-email">{principal()?.email}</span>
          <button type="button" class="btn btn-sm" data-testid="logout" onClick={logout}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabindex="-1">
        {/* Pages render once the session is known: signed out, their requests would only meet 401s. */}
        <Show when={principal()} fallback={<SkeletonLines count={8} height="22px" label="Checking your session…" />}>
          <Suspense fallback={<SkeletonLines count={8} height="22px" />}>{props.children}</Suspense>
        </Show>
      </main>
    </div>
  );
}
