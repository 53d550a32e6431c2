import { A } from "@solidjs/router";
import { EmptyState } from "../components/EmptyState.tsx";

export default function NotFound() {
  document.title = "Not found · SENTpulse";
  return (
    <EmptyState
      title="This page does not exist"
      actions={
        <A class="btn btn-primary" href="/devices">
          Go to devices
        </A>
      }
    >
      The address may be mistyped, or the item was removed.
    </EmptyState>
  );
}
