import { Show } from "solid-js";

/** A server error shown with its own message, and a retry button when there is something to retry. */
export function ErrorNote(props: { message: string; onRetry?: () => void }) {
  return (
    <div class="error-note" role="alert">
      <span style={{ flex: "1" }}>{props.message}</span>
      <Show when={props.onRetry}>
        {(retry) => (
          <button type="button" class="btn btn-sm" onClick={() => retry()()}>
            Try again
          </button>
        )}
      </Show>
    </div>
  );
}
