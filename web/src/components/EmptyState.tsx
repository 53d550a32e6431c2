import type { JSX } from "solid-js";

/** What to show when a list is empty: what it means and what to do next. */
export function EmptyState(props: { title: string; children?: JSX.Element; actions?: JSX.Element; icon?: JSX.Element }) {
  return (
    <div class="empty">
      {props.icon ?? (
        <svg class="empty-icon" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.6" aria-hidden="true">
          <rect x="3" y="4" width="18" height="12" rx="2" />
          <path d="M8 20h8M12 16v4" />
        </svg>
      )}
      <h2>{props.title}</h2>
      {props.children && <p>{props.children}</p>}
      {props.actions && <div class="actions">{props.actions}</div>}
    </div>
  );
}
