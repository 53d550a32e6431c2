import { type Accessor, type JSX, Show } from "solid-js";
import { ErrorNote } from "../ErrorNote.tsx";
import { SkeletonLines } from "../Skeleton.tsx";
import type { poll } from "./poll.ts";

/** A polled answer: the error with a retry, skeleton lines until the first answer, then the children. */
export function Polled<T>(props: {
  list: ReturnType<typeof poll<T>>;
  loading: string;
  /** Skeleton lines while the first answer is awaited. */
  lines?: number;
  children: (data: Accessor<T>) => JSX.Element;
}) {
  return (
    <>
      <Show when={props.list.error()}>{(m) => <ErrorNote message={m()} onRetry={props.list.reload} />}</Show>
      <Show
        when={props.list.data()}
        fallback={
          <Show when={!props.list.error()}>
            <SkeletonLines count={props.lines ?? 6} height="22px" label={props.loading} />
          </Show>
        }
      >
        {(data) => props.children(data)}
      </Show>
    </>
  );
}
