import { createEffect, createSignal, createUniqueId } from "solid-js";
import * as v from "valibot";
import { api, call, errorMessage } from "../lib/api.ts";
import { toast } from "../lib/toast.ts";
import "./commands.css";

const PowerForm = v.object({
  delay: v.pipe(v.string(), v.trim(), v.regex(/^\d{0,5}$/, "Whole seconds, 0 to 86400.")),
  message: v.pipe(v.string(), v.trim(), v.maxLength(200, "At most 200 characters.")),
});

/** Confirms a reboot or shutdown, with an optional delay and a message for logged-in users. */
export function PowerDialog(props: {
  kind: "reboot" | "shutdown" | null;
  deviceId: string;
  hostname: string;
  onClose: () => void;
  onQueued?: () => void;
}) {
  let dialog: HTMLDialogElement | undefined;
  const titleId = createUniqueId();
  const [delay, setDelay] = createSignal("0");
  const [message, setMessage] = createSignal("");
  const [error, setError] = createSignal("");
  createEffect(() => {
    if (!dialog) return;
    if (props.kind && !dialog.open) dialog.showModal();
    if (!props.kind && dialog.open) dialog.close();
  });
  const submit = async (e: Event) => {
    e.preventDefault();
    const kind = props.kind;
    if (!kind) return;
    const p = v.safeParse(PowerForm, { delay: delay(), message: message() });
    if (!p.success) return setError(p.issues[0].message);
    const delaySeconds = Number(p.output.delay || 0);
    if (delaySeconds > 86400) return setError("At most 86400 seconds.");
    try {
      await call(
        api.api.v1
          .devices({ id: props.deviceId })
          .commands.post({ type: kind, payload: { delaySeconds, ...(p.output.message ? { message: p.output.message } : {}) } }),
      );
      toast("success", `${kind === "reboot" ? "Reboot" : "Shutdown"} of ${props.hostname} was queued.`);
      props.onQueued?.();
      props.onClose();
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <dialog ref={dialog} aria-labelledby={titleId} onClose={() => props.onClose()}>
      <h2 id={titleId}>
        {props.kind === "shutdown" ? "Shut down" : "Reboot"} {props.hostname}?
      </h2>
      <form class="form-grid" onSubmit={submit} novalidate>
        <p class="dialog-message">
          {props.kind === "shutdown"
            ? "The device goes offline and stays off until someone powers it on."
            : "The device restarts; it reconnects when it is back up."}
        </p>
        <label>
          Delay (seconds)
          <input inputmode="numeric" data-testid="power-delay" value={delay()} onInput={(e) => setDelay(e.currentTarget.value)} />
        </label>
        <label>
          Message to users (optional)
          <input maxLength={200} value={message()} onInput={(e) => setMessage(e.currentTarget.value)} />
        </label>
        {error() && (
          <p class="field-error" role="alert">
            {error()}
          </p>
        )}
        <div class="dialog-actions">
          <button type="button" class="btn" onClick={() => props.onClose()} autofocus>
            Cancel
          </button>
          <button type="submit" class="btn btn-danger" data-testid="power-confirm">
            {props.kind === "shutdown" ? "Shut down" : "Reboot"}
          </button>
        </div>
      </form>
    </dialog>
  );
}
