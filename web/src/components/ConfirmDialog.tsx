import { createEffect, createUniqueId } from "solid-js";

/** A modal confirmation on the native <dialog> (focus trapped, Escape cancels). */
export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  message: string;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => void;
  onClose: () => void;
}) {
  let dialog: HTMLDialogElement | undefined;
  // Several dialogs can live on one page (settings has three): each needs its own title id.
  const titleId = createUniqueId();
  createEffect(() => {
    if (!dialog) return;
    if (props.open && !dialog.open) dialog.showModal();
    if (!props.open && dialog.open) dialog.close();
  });
  return (
    <dialog ref={dialog} aria-labelledby={titleId} onClose={() => props.onClose()}>
      <h2 id={titleId}>{props.title}</h2>
      <p class="dialog-message">{props.message}</p>
      <div class="dialog-actions">
        <button type="button" class="btn" onClick={() => props.onClose()} autofocus>
          Cancel
        </button>
        <button
          type="button"
          class={props.danger ? "btn btn-danger" : "btn btn-primary"}
          onClick={() => {
            props.onConfirm();
            props.onClose();
          }}
        >
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
