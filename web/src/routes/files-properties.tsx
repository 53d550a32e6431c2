import { Show, createEffect, createResource, createSignal } from "solid-js";
import { api, call, errorMessage } from "../lib/api.ts";
import { bytes, dateTime } from "../lib/format.ts";
import { toast } from "../lib/toast.ts";
import { AclSection } from "./files-acl.tsx";
import { modeString } from "./files-lib.ts";

/**
 * Properties of one entry (times, owner and group with their ids, mode, the resolved path of a link)
 * and, for a technician, chmod (octal) and chown (user and group names or ids) on Linux and macOS;
 * its access control list (Windows: icacls entries, editable; Linux: POSIX ACLs where getfacl exists).
 */
export function PropertiesDialog(props: {
  deviceId: string;
  path: string | undefined;
  elevated: boolean;
  canWrite: boolean;
  os: string;
  onClose: () => void;
  onChanged: () => void;
}) {
  let dialog: HTMLDialogElement | undefined;
  const [stat, { refetch }] = createResource(
    () => props.path,
    (path) =>
      call(
        api.api.v1
          .devices({ id: props.deviceId })
          .files.stat.get({ query: { path, elevated: props.elevated ? "true" : "false", acl: "true" } }),
      ),
  );
  const [mode, setMode] = createSignal("");
  const [owner, setOwner] = createSignal("");
  const [group, setGroup] = createSignal("");
  const [saving, setSaving] = createSignal(false);
  createEffect(() => {
    if (!dialog) return;
    if (props.path && !dialog.open) dialog.showModal();
    if (!props.path && dialog.open) dialog.close();
  });
  /** The entry's properties once loaded for the current path (never the previous entry's while the next loads). */
  const current = () => (stat.loading ? undefined : stat.latest);
  createEffect(() => {
    const s = current();
    if (!s) return;
    setMode(s.entry.mode.toString(8).padStart(3, "0"));
    setOwner(s.entry.owner);
    setGroup(s.entry.group);
  });
  const save = async () => {
    const s = current();
    if (!s || !props.path) return;
    setSaving(true);
    try {
      const ops = api.api.v1.devices({ id: props.deviceId }).files.ops;
      const m = Number.parseInt(mode(), 8);
      if (!/^[0-7]{3,4}$/.test(mode())) throw new Error("the mode is three or four octal digits, e.g. 644");
      if (m !== s.entry.mode) await call(ops.post({ op: "chmod", path: props.path, mode: m, elevated: props.elevated }));
      const o = owner().trim();
      const g = group().trim();
      if (o !== s.entry.owner || g !== s.entry.group)
        await call(
          ops.post({
            op: "chown",
            path: props.path,
            ...(o !== s.entry.owner ? { owner: o } : {}),
            ...(g !== s.entry.group ? { group: g } : {}),
            elevated: props.elevated,
          }),
        );
      toast("success", "Saved.");
      props.onChanged();
      void refetch();
    } catch (e) {
      toast("error", errorMessage(e));
    } finally {
      setSaving(false);
    }
  };
  const posix = () => props.os !== "windows";

  return (
    <dialog ref={dialog} onClose={() => props.onClose()} data-testid="properties-dialog" aria-label="Properties">
      <h2>Properties</h2>
      <Show when={stat.error}>
        <p class="error-note" role="alert">
          {errorMessage(stat.error)}
        </p>
      </Show>
      <Show when={current()}>
        {(s) => (
          <dl class="files-props">
            <dt>Path</dt>
            <dd class="mono">{s().path}</dd>
            <Show when={s().realPath && s().realPath !== s().path}>
              <dt>Resolves to</dt>
              <dd class="mono">{s().realPath}</dd>
            </Show>
            <dt>Type</dt>
            <dd>
              {s().entry.type}
              {s().entry.target ? ` → ${s().entry.target}` : ""}
            </dd>
            <dt>Size</dt>
            <dd>
              {bytes(s().entry.size)} ({s().entry.size.toLocaleString()} bytes)
            </dd>
            <dt>Modified</dt>
            <dd>{dateTime(new Date(s().entry.mtime))}</dd>
            <dt>Accessed</dt>
            <dd>{dateTime(new Date(s().atime))}</dd>
            <dt>Changed</dt>
            <dd>{dateTime(new Date(s().ctime))}</dd>
            <Show when={s().birthtime}>
              {(b) => (
                <>
                  <dt>Created</dt>
                  <dd>{dateTime(new Date(b()))}</dd>
                </>
              )}
            </Show>
            <dt>Owner</dt>
            <dd>
              {s().entry.owner} ({s().uid}) : {s().entry.group} ({s().gid})
            </dd>
            <dt>Mode</dt>
            <dd class="mono">
              {modeString(s().entry)} ({s().entry.mode.toString(8).padStart(4, "0")})
            </dd>
          </dl>
        )}
      </Show>
      <Show when={props.canWrite && posix() && current() && current()?.entry.type !== "link"}>
        <form
          class="files-props-edit"
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <label class="field">
            <span>Mode (octal)</span>
            <input value={mode()} onInput={(e) => setMode(e.currentTarget.value)} maxLength={4} data-testid="props-mode" />
          </label>
          <label class="field">
            <span>Owner</span>
            <input value={owner()} onInput={(e) => setOwner(e.currentTarget.value)} maxLength={32} data-testid="props-owner" />
          </label>
          <label class="field">
            <span>Group</span>
            <input value={group()} onInput={(e) => setGroup(e.currentTarget.value)} maxLength={32} data-testid="props-group" />
          </label>
          <button type="submit" class="btn btn-primary" disabled={saving()} data-testid="props-save">
            Save
          </button>
        </form>
      </Show>
      <Show when={current()}>
        {(s) => (
          <AclSection
            deviceId={props.deviceId}
            path={s().path}
            isDir={s().entry.type === "dir"}
            acl={s().acl ?? null}
            aclError={s().aclError}
            canEdit={props.canWrite && props.os === "windows" && s().entry.type !== "link"}
            elevated={props.elevated}
            onChanged={() => {
              props.onChanged();
              void refetch();
            }}
          />
        )}
      </Show>
      <div class="dialog-actions">
        <button type="button" class="btn" onClick={() => props.onClose()}>
          Close
        </button>
      </div>
    </dialog>
  );
}
