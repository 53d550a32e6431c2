import { For, Show, createSignal } from "solid-js";
import type { FileAcl, WindowsAce } from "../../../server/protocol/files.ts";
import { api, call, errorMessage } from "../lib/api.ts";
import { toast } from "../lib/toast.ts";

const RIGHTS = [
  { code: "F", label: "Full control" },
  { code: "M", label: "Modify" },
  { code: "RX", label: "Read & execute" },
  { code: "R", label: "Read" },
  { code: "W", label: "Write" },
  { code: "D", label: "Delete" },
] as const;
/** The same pattern the server and the agent check (server/protocol/files-limits.ts), to say so before sending. */
const IDENTITY = /^(?:\*S-1-[0-9]{1,3}(?:-[0-9]{1,10}){1,14}|(?:[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}\\)?[A-Za-z0-9_][A-Za-z0-9 ._$-]{0,63})$/;

const POSIX_LABEL = { user: "owner", group: "owning group", mask: "mask", other: "other" } as const;

/** Where an entry applies, as Explorer's Security tab says it. */
function appliesTo(a: WindowsAce): string {
  const f = new Set(a.inheritance);
  const self = !f.has("IO");
  const parts = [self ? "this item" : "", f.has("CI") ? "subfolders" : "", f.has("OI") ? "files" : ""].filter(Boolean);
  const where = parts.length ? parts.join(", ") : "this item";
  return f.has("NP") ? `${where} (one level)` : where;
}

/**
 * The access control list in the properties: on Windows the icacls entries (account, allow/deny,
 * rights, where they apply, inherited) with grant/deny/remove for a technician (the session's
 * privilege as for chmod; audited by the server); on Linux the POSIX ACL entries when getfacl found any
 * beyond the mode's three.
 */
export function AclSection(props: {
  deviceId: string;
  path: string;
  isDir: boolean;
  acl: FileAcl | null;
  aclError: string | undefined;
  canEdit: boolean;
  elevated: boolean;
  onChanged: () => void;
}) {
  const [action, setAction] = createSignal<"grant" | "deny" | "remove">("grant");
  const [identity, setIdentity] = createSignal("");
  const [rights, setRights] = createSignal("RX");
  const [folders, setFolders] = createSignal(true);
  const [files, setFiles] = createSignal(true);
  const [saving, setSaving] = createSignal(false);
  const extended = () => (props.acl?.posix ?? []).filter((e) => e.qualifier !== null || e.tag === "mask" || e.default);

  const apply = async () => {
    const id = identity().trim();
    if (!IDENTITY.test(id)) return toast("error", "an account is NAME, DOMAIN\\NAME or *S-1-…");
    const inheritance = props.isDir ? [...(folders() ? ["CI" as const] : []), ...(files() ? ["OI" as const] : [])] : [];
    const change =
      action() === "remove"
        ? { action: "remove" as const, identity: id }
        : { action: action() as "grant" | "deny", identity: id, rights: rights(), inheritance };
    setSaving(true);
    try {
      await call(
        api.api.v1.devices({ id: props.deviceId }).files.ops.post({ op: "acl", path: props.path, change, elevated: props.elevated }),
      );
      toast("success", action() === "remove" ? `Removed ${id}'s entries.` : `${action() === "grant" ? "Granted" : "Denied"} ${id}.`);
      setIdentity("");
      props.onChanged();
    } catch (e) {
      toast("error", errorMessage(e));
    } finally {
      setSaving(false);
    }
  };

  return (
    <section class="files-acl" aria-label="Access control list" data-testid="files-acl">
      <h3>Permissions</h3>
      <Show when={props.aclError}>
        <p class="error-note">The access control list could not be read: {props.aclError}</p>
      </Show>
      <Show when={props.acl?.kind === "windows" && props.acl}>
        {(acl) => (
          <>
            <Show when={acl().owner}>
              <p>
                Owner: <span class="mono">{acl().owner}</span>
              </p>
            </Show>
            <table class="table files-acl-table">
              <thead>
                <tr>
                  <th>Account</th>
                  <th>Type</th>
                  <th>Rights</th>
                  <th>Applies to</th>
                  <th>Inherited</th>
                </tr>
              </thead>
              <tbody>
                <For each={acl().windows}>
                  {(a) => (
                    <tr data-testid="acl-row" data-type={a.type}>
                      <td class="mono">{a.identity}</td>
                      <td>
                        <span class={a.type === "deny" ? "pill pill-warn" : "pill"}>{a.type === "deny" ? "Deny" : "Allow"}</span>
                      </td>
                      <td title={a.rights.join(",")}>{a.summary}</td>
                      <td>{appliesTo(a)}</td>
                      <td>{a.inherited ? "yes" : "no"}</td>
                    </tr>
                  )}
                </For>
              </tbody>
            </table>
          </>
        )}
      </Show>
      <Show when={props.acl?.kind === "posix"}>
        <Show when={extended().length > 0} fallback={<p class="muted">No ACL entries beyond the mode.</p>}>
          <table class="table files-acl-table">
            <thead>
              <tr>
                <th>Entry</th>
                <th>Permissions</th>
                <th>Effective</th>
              </tr>
            </thead>
            <tbody>
              <For each={props.acl?.posix ?? []}>
                {(e) => (
                  <tr data-testid="acl-row">
                    <td class="mono">
                      {e.default ? "default " : ""}
                      {e.qualifier !== null ? `${e.tag}:${e.qualifier}` : POSIX_LABEL[e.tag]}
                    </td>
                    <td class="mono">{e.perms}</td>
                    <td class="mono">{e.effective ?? ""}</td>
                  </tr>
                )}
              </For>
            </tbody>
          </table>
        </Show>
      </Show>
      <Show when={!props.acl && !props.aclError}>
        <p class="muted">No access control list on this system (mode and owner above).</p>
      </Show>
      <Show when={props.canEdit}>
        <form
          class="files-props-edit"
          onSubmit={(e) => {
            e.preventDefault();
            void apply();
          }}
          data-testid="acl-edit"
        >
          <label class="field">
            <span>Change</span>
            <select value={action()} onChange={(e) => setAction(e.currentTarget.value as "grant" | "deny" | "remove")}>
              <option value="grant">Allow</option>
              <option value="deny">Deny</option>
              <option value="remove">Remove all entries of</option>
            </select>
          </label>
          <label class="field">
            <span>Account</span>
            <input
              value={identity()}
              onInput={(e) => setIdentity(e.currentTarget.value)}
              placeholder="DOMAIN\name"
              maxLength={128}
              required
              data-testid="acl-identity"
            />
          </label>
          <Show when={action() !== "remove"}>
            <label class="field">
              <span>Rights</span>
              <select value={rights()} onChange={(e) => setRights(e.currentTarget.value)}>
                <For each={RIGHTS}>{(r) => <option value={r.code}>{r.label}</option>}</For>
              </select>
            </label>
            <Show when={props.isDir}>
              <label class="files-check">
                <input type="checkbox" checked={folders()} onChange={(e) => setFolders(e.currentTarget.checked)} /> subfolders
              </label>
              <label class="files-check">
                <input type="checkbox" checked={files()} onChange={(e) => setFiles(e.currentTarget.checked)} /> files
              </label>
            </Show>
          </Show>
          <button type="submit" class="btn" disabled={saving()} data-testid="acl-apply">
            Apply
          </button>
        </form>
      </Show>
    </section>
  );
}
