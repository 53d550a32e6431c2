import { Navigate, Route, Router, type RouteSectionProps } from "@solidjs/router";
import { Suspense, lazy } from "solid-js";
import { Shell } from "./components/Shell.tsx";
import { Toasts } from "./components/Toasts.tsx";

// Every page is its own chunk: the login page never loads the device list or the chart code.
const Login = lazy(() => import("./routes/login.tsx"));
const Devices = lazy(() => import("./routes/devices.tsx"));
const DevicePage = lazy(() => import("./routes/device.tsx"));
const TerminalPage = lazy(() => import("./routes/terminal.tsx"));
const Scripts = lazy(() => import("./routes/scripts.tsx"));
const Alerts = lazy(() => import("./routes/alerts.tsx"));
const AddDevice = lazy(() => import("./routes/add-device.tsx"));
const Automation = lazy(() => import("./routes/automation.tsx"));
const Settings = lazy(() => import("./routes/settings.tsx"));
const Audit = lazy(() => import("./routes/audit.tsx"));
const Groups = lazy(() => import("./routes/groups.tsx"));
const Patches = lazy(() => import("./routes/patches.tsx"));
const NotFound = lazy(() => import("./routes/not-found.tsx"));

function Root(props: RouteSectionProps) {
  return (
    <>
      <Suspense>{props.children}</Suspense>
      <Toasts />
    </>
  );
}

export function App() {
  return (
    <Router root={Root}>
      <Route path="/login" component={Login} />
      <Route path="/" component={Shell}>
        <Route path="/" component={() => <Navigate href="/devices" />} />
        <Route path="/devices" component={Devices} />
        <Route path="/devices/:id" component={DevicePage} />
        <Route path="/devices/:id/terminal" component={TerminalPage} />
        <Route path="/scripts" component={Scripts} />
        <Route path="/alerts" component={Alerts} />
        <Route path="/add-device" component={AddDevice} />
        <Route path="/automation" component={Automation} />
        <Route path="/settings" component={Settings} />
        <Route path="/audit" component={Audit} />
        <Route path="/groups" component={Groups} />
        <Route path="/patches" component={Patches} />
        <Route path="*404" component={NotFound} />
      </Route>
    </Router>
  );
}
