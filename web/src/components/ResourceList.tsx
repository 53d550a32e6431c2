import { type Accessor, type JSX, Match, type Resource, Switch } from "solid-js";
import { errorMessage } from "../lib/api.ts";
import { ErrorNote } from "./ErrorNote.tsx";
import { SkeletonLines } from "./Skeleton.tsx";

/**
 * A loaded list in its four states: the server's error with a retry, skeleton lines while the first
 * load runs, a line saying it is empty, or the list itself (kept on screen while it refetches).
 */
export function ResourceList<T>(props: {
  data: Resource<T[]>;
  retry: () => void;
  empty: string;
  skeleton?: number;
  children: (items: Accessor<T[]>) => JSX.Element;
}) {
  return (
    <Switch>
      <Match when={props.data.error}>
        <ErrorNote message={errorMessage(props.data.error)} onRetry={props.retry} />
      </Match>
      <Match when={props.data.loading && !props.data.latest}>
        <SkeletonLines count={props.skeleton ?? 3} />
      </Match>
      <Match when={props.data.latest?.length === 0}>
        <p class="muted">{props.empty}</p>
      </Match>
      <Match when={props.data.latest}>{(items) => props.children(items)}</Match>
    </Switch>
  );
}
