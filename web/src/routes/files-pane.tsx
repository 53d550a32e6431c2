import { For, Show, createEffect, createResource, createSignal } from "solid-js";
import type { FileEntry } from "../../../server/protocol/files.ts";
import { ConfirmDialog } from "../components/ConfirmDialog.tsx";
import { ApiError, api, call, errorMessage } from "../lib/api.ts";
import { bytes, dateTime } from "../lib/format.ts";
import { toast } from "../lib/toast.ts";
import { type SortKey, crumbs, joinPath, modeString, parentOf, sortEntries } from "./files-lib.ts";
import { PropertiesDialog } from "./files-properties.tsx";
import type { Transfers } from "./files-transfers.tsx";
import { FileTree } from "./files-tree.tsx";

/** A folder, file or link glyph (inline SVG: no icon font, nothing fetched). */
function EntryIcon(props: { type: FileEntry["type"] }) {
  return (
    <svg class="files-icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" data-kind={props.type}>
      <Show
        when={props.type === "dir"}
        fallback={
          <Show when={props.type === "link"} fallback={<path d="M3 1.5h6l4 4v9H3z M9 1.5v4h4" fill="none" stroke="currentColor" />}>
            <path
              d="M6.5 9.5l3-3 M5 7.5l-1.5 1.5a2 2 0 0 0 3 3L8 10.5 M11 8.5l1.5-1.5a2 2 0 0 0-3-3L8 5.5"
              fill="none"
              stroke="currentColor"
            />
          </Show>
        }
      >
        <path d="M1.5 3.5h4.5l1.5 1.5h7v8.5h-13z" fill="currentColor" opacity="0.8" />
      </Show>
    </svg>
  );
}

/** `2026-12-01 18:17` in the browser's time zone: short enough for a pane's column. */
function shortDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** What a row carries when dragged to the other pane. */
const DRAG_TYPE = "application/x-sentpulse-path";

/** A text asked for in a small modal (rename, new folder). */
export function PromptDialog(props: {
  open: boolean;
  title: string;
  label: string;
  value: string;
  confirmLabel: string;
  testId: string;
  onConfirm: (value: string) => void;
  onClose: () => void;
}) {
  let dialog: HTMLDialogElement | undefined;
  let input: HTMLInputElement | undefined;
  createEffect(() => {
    if (!dialog) return;
    if (props.open && !dialog.open) {
      dialog.showModal();
      if (input) {
        input.value = props.value;
        input.select();
      }
    }
    if (!props.open && dialog.open) dialog.close();
  });
  return (
    <dialog ref={dialog} onClose={() => props.onClose()} data-testid={props.testId}>
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          const v = input?.value.trim() ?? "";
          if (v) props.onConfirm(v);
          props.onClose();
        }}
      >
        <h2>{props.title}</h2>
        <label class="field">
          <span>{props.label}</span>
          <input ref={input} required maxLength={255} data-testid={`${props.testId}-input`} />
        </label>
        <div class="dialog-actions">
          <button type="button" class="btn" onClick={() => props.onClose()}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" data-testid={`${props.testId}-confirm`}>
            {props.confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}

/**
 * One pane of the explorer: a folder of the device with breadcrumbs, sorting, hidden files, and the
 * changes a technician makes there (new folder, rename, delete with a count, download, upload by
 * drag and drop or by picking files, copy from the other pane by dragging a row onto this one).
 */
export function FilePane(props: {
  label: string;
  deviceId: string;
  elevated: boolean;
  canWrite: boolean;
  initial: string;
  os: string;
  transfers: Transfers;
  /** Bumped when something changed elsewhere (the other pane, a finished upload): reload. */
  version: number;
  onChanged: () => void;
}) {
  const [path, setPath] = createSignal(props.initial);
  const [hidden, setHidden] = createSignal(false);
  const [sort, setSort] = createSignal<{ key: SortKey; desc: boolean }>({ key: "name", desc: false });
  const [selected, setSelected] = createSignal<string>();
  const [dropping, setDropping] = createSignal(false);
  const [renaming, setRenaming] = createSignal<FileEntry>();
  const [creating, setCreating] = createSignal(false);
  const [deleting, setDeleting] = createSignal<{ entry: FileEntry; message: string }>();
  const [inspecting, setInspecting] = createSignal<string>();
  const [showTree, setShowTree] = createSignal(localStorage.getItem("sentpulse.files.tree") !== "off");
  const [listing, { refetch }] = createResource(
    () => ({ path: path(), hidden: hidden(), elevated: props.elevated, v: props.version }),
    (q) =>
      call(
        api.api.v1
          .devices({ id: props.deviceId })
          .files.get({ query: { path: q.path, hidden: q.hidden ? "true" : "false", elevated: q.elevated ? "true" : "false" } }),
      ),
  );
  const rows = () => sortEntries(listing.latest?.items ?? [], sort().key, sort().desc);
  const elevated = () => props.elevated;
  const op = async (body: Record<string, unknown>, done: string) => {
    try {
      const r = await call(api.api.v1.devices({ id: props.deviceId }).files.ops.post({ ...body, elevated: elevated() } as never));
      const n = (r as { entries: number }).entries;
      toast("success", done.replace("{n}", `${n} ${n === 1 ? "entry" : "entries"}`));
      props.onChanged();
      void refetch();
    } catch (e) {
      toast("error", errorMessage(e));
    }
  };
  const open = (e: FileEntry) => {
    const target = joinPath(path(), e.name);
    if (e.type === "dir") setPath(target);
    else if (e.type === "link" && e.targetType === "dir") setPath(e.target?.startsWith("/") ? e.target : target);
  };
  /** A file of another device's pane dropped here: copied device to device through the server. */
  const send = async (from: { deviceId: string; path: string }, to: string) => {
    try {
      await call(api.api.v1.devices({ id: from.deviceId }).files.send.post({ path: from.path, toDeviceId: props.deviceId, toPath: to }));
      toast("success", `Copying ${from.path} to ${to} on the other device; see Transfers.`);
      void props.transfers.refresh();
    } catch (e) {
      toast("error", errorMessage(e));
    }
  };
  const askDelete = async (e: FileEntry) => {
    const target = joinPath(path(), e.name);
    if (e.type !== "dir") return setDeleting({ entry: e, message: `Delete ${target}?` });
    try {
      const c = await call(
        api.api.v1.devices({ id: props.deviceId }).files.count.get({ query: { path: target, elevated: elevated() ? "true" : "false" } }),
      );
      setDeleting({
        entry: e,
        message: `Delete ${target} and everything in it: ${c.files} files, ${Math.max(0, c.dirs - 1)} folders, ${c.links} links (${bytes(c.bytes)})? This cannot be undone.`,
      });
    } catch (err) {
      toast("error", errorMessage(err));
    }
  };
  const download = (e: FileEntry) => {
    const a = document.createElement("a");
    const q = new URLSearchParams({ path: joinPath(path(), e.name), ...(elevated() ? { elevated: "true" } : {}) });
    a.href = `/api/v1/devices/${props.deviceId}/files/download?${q}`;
    a.download = e.name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => void props.transfers.refresh(), 500);
  };
  const uploadFiles = (files: FileList | File[], dir = path()) => {
    for (const f of Array.from(files)) props.transfers.upload(f, joinPath(dir, f.name), elevated());
  };
  /**
   * Something dropped into `dir` (the pane's folder, or a folder of its tree): a row of a pane is
   * copied there (moved with Shift held; from another device: sent through the server), files from
   * the desktop are uploaded there.
   */
  const dropInto = (ev: DragEvent, dir: string) => {
    ev.preventDefault();
    setDropping(false);
    if (!props.canWrite) return toast("error", "your role does not allow changing files");
    const dragged = ev.dataTransfer?.getData(DRAG_TYPE);
    if (dragged) {
      const from = JSON.parse(dragged) as { deviceId: string; path: string };
      const name = from.path.split(/[\\/]/).filter(Boolean).at(-1) ?? "copy";
      if (from.deviceId !== props.deviceId) return void send(from, joinPath(dir, name));
      if (parentOf(from.path) === dir || from.path === dir) return;
      if (ev.shiftKey) void op({ op: "move", path: from.path, to: joinPath(dir, name) }, `Moved ${name} to ${dir} ({n}).`);
      else void op({ op: "copy", path: from.path, to: joinPath(dir, name) }, `Copied ${name} to ${dir} ({n}).`);
      return;
    }
    if (ev.dataTransfer?.files.length) uploadFiles(ev.dataTransfer.files, dir);
  };
  const onDrop = (ev: DragEvent) => dropInto(ev, path());
  const header = (key: SortKey, label: string) => (
    <th
      aria-sort={sort().key === key ? (sort().desc ? "descending" : "ascending") : "none"}
      class="sortable"
      onClick={() => setSort((s) => ({ key, desc: s.key === key ? !s.desc : false }))}
    >
      {label}
      {sort().key === key ? (sort().desc ? " ↓" : " ↑") : ""}
    </th>
  );
  let picker: HTMLInputElement | undefined;

  return (
    <section
      class="card files-pane"
      classList={{ dropping: dropping() }}
      aria-label={props.label}
      data-testid="file-pane"
      data-path={path()}
      onDragOver={(e) => {
        e.preventDefault();
        setDropping(true);
      }}
      onDragLeave={() => setDropping(false)}
      onDrop={onDrop}
    >
      <div class="files-toolbar">
        <button type="button" class="btn btn-sm" aria-label="Up one folder" onClick={() => setPath(parentOf(path()))}>
          ↑
        </button>
        <nav class="files-crumbs" aria-label="Path">
          <For each={crumbs(path())}>
            {(c, i) => (
              <>
                <Show when={i() > 1}>
                  <span class="muted">/</span>
                </Show>
                <button type="button" class="link-button" onClick={() => setPath(c.path)}>
                  {c.label}
                </button>
              </>
            )}
          </For>
        </nav>
        <form
          class="files-goto"
          onSubmit={(e) => {
            e.preventDefault();
            const v = new FormData(e.currentTarget).get("goto");
            if (typeof v === "string" && v.trim()) setPath(v.trim());
          }}
        >
          <input name="goto" placeholder="Go to path" aria-label="Go to path" data-testid="files-goto" />
        </form>
        <button
          type="button"
          class="btn btn-sm"
          aria-pressed={showTree()}
          data-testid="files-tree-toggle"
          onClick={() => {
            const v = !showTree();
            setShowTree(v);
            localStorage.setItem("sentpulse.files.tree", v ? "on" : "off");
          }}
        >
          Tree
        </button>
        <label class="files-check">
          <input type="checkbox" checked={hidden()} onChange={(e) => setHidden(e.currentTarget.checked)} /> Hidden
        </label>
        <button type="button" class="btn btn-sm" onClick={() => void refetch()}>
          Refresh
        </button>
        <Show when={props.canWrite}>
          <button type="button" class="btn btn-sm" onClick={() => setCreating(true)} data-testid="files-mkdir">
            New folder
          </button>
          <button type="button" class="btn btn-sm" onClick={() => picker?.click()}>
            Upload…
          </button>
          <input
            ref={picker}
            type="file"
            multiple
            hidden
            data-testid="files-upload-input"
            onChange={(e) => {
              if (e.currentTarget.files) uploadFiles(e.currentTarget.files);
              e.currentTarget.value = "";
            }}
          />
        </Show>
      </div>
      <Show when={listing.error}>
        <p class="error-note" role="alert" data-testid="files-error">
          {listing.error instanceof ApiError ? `${listing.error.message} (${listing.error.code})` : errorMessage(listing.error)}
        </p>
      </Show>
      <Show when={listing.latest}>
        {(l) => (
          <p class="muted files-meta">
            {l().items.length} entries{l().truncated ? " (the first ones: the folder has more)" : ""} · as {l().runAs}
          </p>
        )}
      </Show>
      <div class="files-body" classList={{ "with-tree": showTree() }}>
        <Show when={showTree()}>
          <FileTree
            deviceId={props.deviceId}
            elevated={elevated()}
            hidden={hidden()}
            root={props.os === "windows" ? props.initial.slice(0, 3) : "/"}
            current={listing.latest?.path ?? path()}
            version={props.version}
            onOpen={setPath}
            onDrop={dropInto}
          />
        </Show>
        <div class="files-list">
          <table class="table">
            <thead>
              <tr>
                {header("name", "Name")}
                {header("size", "Size")}
                {header("mtime", "Modified")}
                <th>Mode, owner</th>
                <th />
              </tr>
            </thead>
            <tbody>
              <For each={rows()}>
                {(e) => (
                  <tr
                    data-testid="file-row"
                    data-name={e.name}
                    data-type={e.type}
                    classList={{ selected: selected() === e.name }}
                    draggable={true}
                    onDragStart={(ev) =>
                      ev.dataTransfer?.setData(DRAG_TYPE, JSON.stringify({ deviceId: props.deviceId, path: joinPath(path(), e.name) }))
                    }
                    onClick={() => setSelected(e.name)}
                    onDblClick={() => open(e)}
                  >
                    <td class="files-name">
                      <EntryIcon type={e.type} />
                      <Show when={e.type === "dir" || (e.type === "link" && e.targetType === "dir")} fallback={<span>{e.name}</span>}>
                        <button type="button" class="link-button" onClick={() => open(e)} data-testid="file-open">
                          {e.name}
                        </button>
                      </Show>
                      <Show when={e.type === "link"}>
                        <span class="muted"> → {e.target}</span>
                      </Show>
                    </td>
                    <td>{e.type === "dir" ? "—" : bytes(e.size)}</td>
                    <td class="files-date" title={dateTime(new Date(e.mtime))}>
                      {shortDate(e.mtime)}
                    </td>
                    <td class="files-mode">
                      <span class="mono">{modeString(e)}</span>{" "}
                      <span class="muted">
                        {e.owner}:{e.group}
                      </span>
                    </td>
                    <td class="files-row-actions">
                      <Show when={e.type === "file"}>
                        <button
                          type="button"
                          class="btn btn-sm"
                          onClick={() => download(e)}
                          data-testid="file-download"
                          aria-label={`Download ${e.name}`}
                          title="Download"
                        >
                          ↓
                        </button>
                      </Show>
                      <button
                        type="button"
                        class="btn btn-sm"
                        onClick={() => setInspecting(joinPath(path(), e.name))}
                        data-testid="file-properties"
                        aria-label={`Properties of ${e.name}`}
                        title="Properties"
                      >
                        i
                      </button>
                      <Show when={props.canWrite}>
                        <button
                          type="button"
                          class="btn btn-sm"
                          onClick={() => setRenaming(e)}
                          data-testid="file-rename"
                          aria-label={`Rename ${e.name}`}
                          title="Rename"
                        >
                          ✎
                        </button>
                        <button
                          type="button"
                          class="btn btn-sm btn-danger"
                          onClick={() => void askDelete(e)}
                          data-testid="file-delete"
                          aria-label={`Delete ${e.name}`}
                          title="Delete"
                        >
                          ✕
                        </button>
                      </Show>
                    </td>
                  </tr>
                )}
              </For>
            </tbody>
          </table>
          <Show when={listing.latest && rows().length === 0}>
            <p class="muted files-empty">Empty folder{props.canWrite ? ": drop files here to upload them" : ""}.</p>
          </Show>
        </div>
      </div>
      <PromptDialog
        open={creating()}
        title="New folder"
        label={`In ${path()}`}
        value="New folder"
        confirmLabel="Create"
        testId="mkdir-dialog"
        onClose={() => setCreating(false)}
        onConfirm={(name) => void op({ op: "mkdir", path: joinPath(path(), name) }, `Created ${name}.`)}
      />
      <PromptDialog
        open={renaming() !== undefined}
        title="Rename"
        label="New name"
        value={renaming()?.name ?? ""}
        confirmLabel="Rename"
        testId="rename-dialog"
        onClose={() => setRenaming(undefined)}
        onConfirm={(name) => {
          const e = renaming();
          if (e && name !== e.name)
            void op({ op: "rename", path: joinPath(path(), e.name), to: joinPath(path(), name) }, `Renamed to ${name}.`);
        }}
      />
      <PropertiesDialog
        deviceId={props.deviceId}
        path={inspecting()}
        elevated={elevated()}
        canWrite={props.canWrite}
        os={props.os}
        onClose={() => setInspecting(undefined)}
        onChanged={() => void refetch()}
      />
      <ConfirmDialog
        open={deleting() !== undefined}
        title="Delete"
        message={deleting()?.message ?? ""}
        confirmLabel="Delete"
        danger
        onClose={() => setDeleting(undefined)}
        onConfirm={() => {
          const d = deleting();
          if (d) void op({ op: "delete", path: joinPath(path(), d.entry.name), recursive: d.entry.type === "dir" }, `Deleted ({n}).`);
        }}
      />
    </section>
  );
}
