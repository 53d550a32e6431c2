import { Show } from "solid-js";
import { can } from "../lib/session.ts";
import { ApiKeys } from "./settings-api-keys.tsx";
import { ClientsAndSites } from "./settings-clients.tsx";
import { Security } from "./settings-security.tsx";
import { Sessions } from "./settings-sessions.tsx";
import { SingleSignOn } from "./settings-sso.tsx";
import { Roles } from "./settings-roles.tsx";
import { EnrollmentTokens } from "./settings-tokens.tsx";
import { Users } from "./settings-users.tsx";
import "./settings.css";

/**
 * Settings: your sign-in security and sessions; the organization's clients and sites, users, roles,
 * API keys, enrollment tokens; each organization section only for those whose permissions allow it.
 */
export default function Settings() {
  document.title = "Settings · SENTpulse";
  return (
    <div class="settings">
      <div class="page-head">
        <div>
          <h1>Settings</h1>
          <p>Clients and sites, people, programs and enrollment for your organization.</p>
        </div>
      </div>
      <Security />
      <Sessions />
      <ClientsAndSites />
      <Users />
      <Roles />
      <SingleSignOn />
      <Show when={can("users:manage")}>
        <ApiKeys />
      </Show>
      <Show when={can("enrollment:manage")}>
        <EnrollmentTokens />
      </Show>
    </div>
  );
}
