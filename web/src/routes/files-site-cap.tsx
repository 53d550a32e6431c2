import { Show, createEffect, createSignal } from "solid-js";
import { api, call, errorMessage } from "../lib/api.ts";
import { rate } from "../lib/format.ts";
import { toast } from "../lib/toast.ts";

const UNITS = { "KiB/s": 1024, "MiB/s": 1024 * 1024 } as const;
type Unit = keyof typeof UNITS;

/**
 * A site's default bandwidth cap of file transfers (per device; a transfer's own cap overrides it),
 * shown on its row in Settings → Clients and sites and, for those who manage clients, set or removed
 * in a small dialog (PUT /api/v1/sites/:id, audited by the server).
 */
export function SiteTransferCap(props: { siteId: string; siteName: string; bps: number | null; canEdit: boolean; onSaved: () => void }) {
  let dialog: HTMLDialogElement | undefined;
  const [open, setOpen] = createSignal(false);
  const [value, setValue] = createSignal("");
  const [unit, setUnit] = createSignal<Unit>("MiB/s");
  createEffect(() => {
    if (!dialog) return;
    if (open() && !dialog.open) dialog.showModal();
    if (!open() && dialog.open) dialog.close();
  });
  const start = () => {
    const b = props.bps;
    const u: Unit = b !== null && b < UNITS["MiB/s"] ? "KiB/s" : "MiB/s";
    setUnit(u);
    setValue(b === null ? "" : String(Math.round((b / UNITS[u]) * 100) / 100));
    setOpen(true);
  };
  const save = async (bps: number | null) => {
    try {
      await call(api.api.v1.sites({ id: props.siteId }).put({ filesRateLimitBps: bps }));
      toast(
        "success",
        bps === null ? `${props.siteName}: no transfer cap.` : `${props.siteName}: transfers capped at ${rate(bps)} per device.`,
      );
      setOpen(false);
      props.onSaved();
    } catch (e) {
      toast("error", errorMessage(e));
    }
  };
  return (
    <>
      <span class="muted" data-testid="site-transfer-cap">
        transfers: {props.bps === null ? "no cap" : `${rate(props.bps)} per device`}
      </span>
      <Show when={props.canEdit}>
        <button class="btn btn-sm" type="button" onClick={start} data-testid="site-transfer-cap-edit">
          Transfer cap…
        </button>
        <dialog ref={dialog} onClose={() => setOpen(false)} data-testid="site-cap-dialog" aria-label={`Transfer cap of ${props.siteName}`}>
          <form
            method="dialog"
            onSubmit={(e) => {
              e.preventDefault();
              const n = Number(value());
              if (!Number.isFinite(n) || n <= 0) return toast("error", "a cap is a positive number");
              const bps = Math.round(n * UNITS[unit()]);
              if (bps < 1024) return toast("error", "the smallest cap is 1 KiB/s");
              void save(bps);
            }}
          >
            <h2>Transfer cap of {props.siteName}</h2>
            <p class="muted">
              The default bandwidth of file transfers of each of this site's devices. A transfer started with its own cap uses that instead.
            </p>
            <div class="inline-form compact">
              <label class="field">
                <span>Cap</span>
                <input
                  type="number"
                  min="0.01"
                  step="any"
                  required
                  value={value()}
                  onInput={(e) => setValue(e.currentTarget.value)}
                  data-testid="site-cap-value"
                />
              </label>
              <label class="field">
                <span>Unit</span>
                <select value={unit()} onChange={(e) => setUnit(e.currentTarget.value as Unit)} data-testid="site-cap-unit">
                  <option value="KiB/s">KiB/s</option>
                  <option value="MiB/s">MiB/s</option>
                </select>
              </label>
            </div>
            <div class="dialog-actions">
              <button type="button" class="btn" onClick={() => setOpen(false)}>
                Cancel
              </button>
              <Show when={props.bps !== null}>
                <button type="button" class="btn" onClick={() => void save(null)} data-testid="site-cap-clear">
                  Remove cap
                </button>
              </Show>
              <button type="submit" class="btn btn-primary" data-testid="site-cap-save">
                Save
              </button>
            </div>
          </form>
        </dialog>
      </Show>
    </>
  );
}
