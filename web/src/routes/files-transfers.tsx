import { For, Show, createSignal, onCleanup } from "solid-js";
import * as tus from "tus-js-client";
import { api, call, errorMessage } from "../lib/api.ts";
import { bytes, rate } from "../lib/format.ts";
import { toast } from "../lib/toast.ts";

type Transfer = Awaited<ReturnType<typeof loadTransfers>>[number];
/** The technician's own transfers on every device (a copy between two devices shows both halves). */
async function loadTransfers() {
  return (await call(api.api.v1.files.transfers.get())).items;
}

/** An upload still travelling from this browser to the server (tus), before it becomes a transfer to the device. */
interface BrowserUpload {
  key: string;
  name: string;
  path: string;
  size: number;
  sent: number;
  bps: number;
  state: "uploading" | "paused" | "failed";
  upload: tus.Upload;
}

/** Bytes of one tus chunk: the server's body limit (1 MiB). */
const TUS_CHUNK = 1_048_576;

/**
 * The transfers panel: uploads leaving this browser (tus: pause, resume, cancel), and every transfer
 * between the server and the device (progress, speed, state; pause, resume, cancel; save a finished
 * download). Polled every second while something moves, every 10 s otherwise.
 */
export function createTransfers(deviceId: () => string, onDone: () => void) {
  const [items, setItems] = createSignal<Transfer[]>([]);
  const [uploads, setUploads] = createSignal<BrowserUpload[]>([]);
  const speeds = new Map<string, { at: number; bytes: number; bps: number }>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  /** Transfers seen done, and whether the first list (whose done ones are old news) came. */
  const seenDone = new Set<string>();
  let loaded = false;
  const active = (t: Transfer) => ["queued", "running", "waiting"].includes(t.state);

  const refresh = async () => {
    clearTimeout(timer);
    let finished = false;
    try {
      const list = await loadTransfers();
      const now = performance.now();
      for (const t of list) {
        const was = speeds.get(t.id);
        const bps = was && now > was.at ? ((t.doneBytes - was.bytes) / (now - was.at)) * 1000 : 0;
        speeds.set(t.id, { at: now, bytes: t.doneBytes, bps: was ? bps * 0.5 + was.bps * 0.5 : 0 });
        // a transfer that finished since the last look (however fast) reloads the panes: its file is there now
        if (t.state === "done" && !seenDone.has(t.id)) {
          seenDone.add(t.id);
          if (loaded) finished = true;
        }
      }
      setItems(list);
      if (finished) onDone();
      loaded = true;
    } catch {
      // the panel keeps what it showed; the next round tries again
    }
    if (!stopped) timer = setTimeout(refresh, items().some(active) || uploads().length > 0 ? 1000 : 10_000);
  };
  void refresh();
  onCleanup(() => {
    stopped = true;
    clearTimeout(timer);
  });

  const patchUpload = (key: string, p: Partial<BrowserUpload>) => setUploads((u) => u.map((x) => (x.key === key ? { ...x, ...p } : x)));

  /** Sends a file from this browser to `path` on the device. */
  const upload = (file: File, path: string, elevated: boolean) => {
    const key = crypto.randomUUID();
    let last = { at: performance.now(), sent: 0 };
    const u = new tus.Upload(file, {
      endpoint: `/api/v1/devices/${deviceId()}/files/uploads`,
      chunkSize: TUS_CHUNK,
      retryDelays: [0, 1000, 3000, 5000, 10_000],
      removeFingerprintOnSuccess: true,
      metadata: { path, filename: file.name, overwrite: "false", elevated: String(elevated) },
      onProgress: (sent) => {
        const now = performance.now();
        const bps = now > last.at ? ((sent - last.sent) / (now - last.at)) * 1000 : 0;
        last = { at: now, sent };
        patchUpload(key, { sent, bps });
      },
      onSuccess: () => {
        setUploads((list) => list.filter((x) => x.key !== key));
        toast("success", `${file.name} reached the server; sending it to the device.`);
        void refresh();
      },
      onError: (err) => {
        patchUpload(key, { state: "failed" });
        const body = (err as { originalResponse?: { getBody(): string } }).originalResponse?.getBody();
        let message = err.message;
        try {
          message = (JSON.parse(body ?? "") as { error: { message: string } }).error.message;
        } catch {}
        toast("error", `${file.name}: ${message}`);
      },
    });
    setUploads((list) => [...list, { key, name: file.name, path, size: file.size, sent: 0, bps: 0, state: "uploading", upload: u }]);
    u.start();
    void refresh();
  };

  const act = async (t: Transfer, action: "pause" | "resume" | "cancel") => {
    try {
      const one = api.api.v1.files.transfers({ id: t.id });
      await call(action === "pause" ? one.pause.post() : action === "resume" ? one.resume.post() : one.cancel.post());
      void refresh();
    } catch (e) {
      toast("error", errorMessage(e));
    }
  };

  return { items, uploads, upload, refresh, act, speed: (id: string) => speeds.get(id)?.bps ?? 0, patchUpload, setUploads };
}

export type Transfers = ReturnType<typeof createTransfers>;

const STATE_LABEL: Record<string, string> = {
  queued: "Queued",
  running: "Moving",
  waiting: "Waiting for the device",
  paused: "Paused",
  done: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
  staging: "Arriving",
};

function Progress(props: { done: number; size: number }) {
  const pct = () => (props.size === 0 ? 100 : Math.min(100, (props.done / props.size) * 100));
  return (
    <div class="files-progress" role="progressbar" aria-valuenow={Math.round(pct())} aria-valuemin={0} aria-valuemax={100}>
      <div style={{ width: `${pct()}%` }} />
    </div>
  );
}

/** The panel under the two panes. */
export function TransfersPanel(props: { transfers: Transfers }) {
  const t = props.transfers;
  const name = (path: string) => path.split(/[\\/]/).filter(Boolean).at(-1) ?? path;
  return (
    <section class="card section files-transfers" aria-label="Transfers" data-testid="transfers">
      <div class="section-head">
        <h2>Transfers</h2>
      </div>
      <Show
        when={t.uploads().length > 0 || t.items().length > 0}
        fallback={<p class="muted">No transfers yet: download a file, or drop files on a folder to upload them.</p>}
      >
        <table class="table files-transfer-table">
          <thead>
            <tr>
              <th>File</th>
              <th>Direction</th>
              <th>Progress</th>
              <th>Speed</th>
              <th>State</th>
              <th />
            </tr>
          </thead>
          <tbody>
            <For each={t.uploads()}>
              {(u) => (
                <tr data-testid="transfer-row" data-state={`browser-${u.state}`}>
                  <td title={u.path}>{u.name}</td>
                  <td>Browser → server</td>
                  <td>
                    <Progress done={u.sent} size={u.size} />
                    <span class="muted">
                      {bytes(u.sent)} of {bytes(u.size)}
                    </span>
                  </td>
                  <td>{u.state === "uploading" ? rate(u.bps) : "—"}</td>
                  <td>{u.state === "uploading" ? "Uploading" : u.state === "paused" ? "Paused" : "Failed"}</td>
                  <td class="files-row-actions">
                    <Show when={u.state === "uploading"}>
                      <button
                        type="button"
                        class="btn btn-sm"
                        onClick={() => {
                          void u.upload.abort();
                          t.patchUpload(u.key, { state: "paused" });
                        }}
                      >
                        Pause
                      </button>
                    </Show>
                    <Show when={u.state !== "uploading"}>
                      <button
                        type="button"
                        class="btn btn-sm"
                        onClick={() => {
                          u.upload.start();
                          t.patchUpload(u.key, { state: "uploading" });
                        }}
                      >
                        Resume
                      </button>
                    </Show>
                    <button
                      type="button"
                      class="btn btn-sm btn-danger"
                      onClick={() => {
                        void u.upload.abort(true);
                        t.setUploads((list) => list.filter((x) => x.key !== u.key));
                      }}
                    >
                      Cancel
                    </button>
                  </td>
                </tr>
              )}
            </For>
            <For each={t.items()}>
              {(x) => (
                <tr data-testid="transfer-row" data-state={x.state} data-path={x.path}>
                  <td title={x.path}>
                    {name(x.path)}
                    <Show when={x.elevated}>
                      {" "}
                      <span class="pill pill-warn">elevated</span>
                    </Show>
                  </td>
                  <td>{x.direction === "download" ? "Device → server" : "Server → device"}</td>
                  <td>
                    <Progress done={x.doneBytes} size={x.size} />
                    <span class="muted">
                      {bytes(x.doneBytes)} of {bytes(x.size)}
                    </span>
                  </td>
                  <td>{x.state === "running" ? rate(t.speed(x.id)) : "—"}</td>
                  <td title={x.error ?? x.sha256 ?? ""}>{STATE_LABEL[x.state] ?? x.state}</td>
                  <td class="files-row-actions">
                    <Show when={x.state === "running" || x.state === "queued" || x.state === "waiting"}>
                      <button type="button" class="btn btn-sm" onClick={() => void t.act(x, "pause")}>
                        Pause
                      </button>
                    </Show>
                    <Show when={x.state === "paused"}>
                      <button type="button" class="btn btn-sm" onClick={() => void t.act(x, "resume")}>
                        Resume
                      </button>
                    </Show>
                    <Show when={!["done", "failed", "cancelled"].includes(x.state)}>
                      <button type="button" class="btn btn-sm btn-danger" onClick={() => void t.act(x, "cancel")}>
                        Cancel
                      </button>
                    </Show>
                    <Show when={x.direction === "download" && x.state === "done"}>
                      <a class="btn btn-sm" href={`/api/v1/files/transfers/${x.id}/content`} download={name(x.path)}>
                        Save
                      </a>
                    </Show>
                  </td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </Show>
    </section>
  );
}
