import { For } from "solid-js";

/** A grey shimmering block standing in for content that is loading. */
export function Skeleton(props: { width?: string; height?: string; class?: string }) {
  return (
    <span
      class={`skeleton ${props.class ?? ""}`}
      style={{ width: props.width ?? "100%", height: props.height ?? "14px" }}
      aria-hidden="true"
    />
  );
}

/** `count` skeleton lines with a screen-reader-only "Loading…". */
export function SkeletonLines(props: { count: number; height?: string; gap?: string; label?: string }) {
  return (
    <div style={{ display: "flex", "flex-direction": "column", gap: props.gap ?? "10px" }} aria-busy="true">
      <span class="sr-only" role="status">
        {props.label ?? "Loading…"}
      </span>
      <For each={Array.from({ length: props.count }, (_, i) => i)}>
        {(i) => <Skeleton height={props.height ?? "14px"} width={`${92 - ((i * 17) % 30)}%`} />}
      </For>
    </div>
  );
}
