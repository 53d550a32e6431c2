import { principal } from "../lib/session.ts";
import { ApiKeys } from "./settings-api-keys.tsx";
import { EnrollmentTokens } from "./settings-tokens.tsx";
import "./settings.css";

const COMING_SOON_USERS = "Coming soon: user management arrives with the tenancy capability";

/** Organization settings: users (coming), API keys, enrollment tokens. */
export default function Settings() {
  document.title = "Settings · SENTpulse";
  return (
    <div class="settings">
      <div class="page-head">
        <div>
          <h1>Settings</h1>
          <p>People, programs and enrollment for your organization.</p>
        </div>
      </div>
      <section class="card section" aria-labelledby="users-title">
        <div class="section-head">
          <div>
            <h2 id="users-title">Users</h2>
            <p class="muted">Invite technicians and choose their role.</p>
          </div>
          <button type="button" class="btn" disabled title={COMING_SOON_USERS}>
            Invite user
          </button>
        </div>
        <div class="table-wrap">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              <tr>
                <td>
                  {principal()?.email ?? "—"} <span class="pill">you</span>
                </td>
                <td>{principal()?.role}</td>
                <td class="right">
                  <button type="button" class="btn btn-sm" disabled title={COMING_SOON_USERS}>
                    Change role
                  </button>
                </td>
              </tr>
            </tbody>
          </table>
        </div>
        <p class="hint">Managing users is coming soon; until then the first admin is set with SENTPULSE_ADMIN_EMAIL.</p>
      </section>
      <ApiKeys />
      <EnrollmentTokens />
    </div>
  );
}
