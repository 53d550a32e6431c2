import { For, type JSX, createEffect, createMemo, createSignal, onCleanup, onMount } from "solid-js";

/**
 * Table markup that renders only the rows in view (plus `overscan`) of `count` fixed-height rows,
 * so 10,000 devices cost as much as 30. Rows are absolutely placed (CSS) and keyed by index: while
 * scrolling, rows that stay in view are neither re-rendered nor re-laid out; only new ones are built. Arrow keys, Page Up/Down,
 * Home and End move focus between rows (to a row's first link or button), scrolling as needed.
 */
export function VirtualTable(props: {
  count: number;
  /** Total rows on the server (for aria-rowcount), when more than `count` are not loaded yet. */
  total?: number;
  rowHeight: number;
  overscan?: number;
  caption: string;
  head: JSX.Element;
  class?: string;
  rowTestId?: string;
  onRange?: (start: number, end: number) => void;
  /** The cells of row `index`. */
  children: (index: number) => JSX.Element;
}) {
  let scroller: HTMLDivElement | undefined;
  const [scrollTop, setScrollTop] = createSignal(0);
  const [height, setHeight] = createSignal(600);
  const headHeight = () => scroller?.querySelector("thead")?.getBoundingClientRect().height ?? 0;
  let frame = 0;

  onMount(() => {
    if (!scroller) return;
    const el = scroller;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    setHeight(el.clientHeight);
    onCleanup(() => ro.disconnect());
  });
  onCleanup(() => cancelAnimationFrame(frame));

  const onScroll = () => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => setScrollTop(scroller?.scrollTop ?? 0));
  };

  const range = createMemo(() => {
    const over = props.overscan ?? 8;
    const start = Math.max(0, Math.floor(scrollTop() / props.rowHeight) - over);
    const end = Math.min(props.count, Math.ceil((scrollTop() + height()) / props.rowHeight) + over);
    return { start, end };
  });
  const indices = createMemo(() => {
    const { start, end } = range();
    const out: number[] = [];
    for (let i = start; i < end; i++) out.push(i);
    return out;
  });
  createEffect(() => {
    const { start, end } = range();
    props.onRange?.(start, end);
  });

  const focusRow = (i: number) => {
    if (!scroller) return;
    const top = i * props.rowHeight;
    const view = scroller.clientHeight - headHeight();
    if (top < scroller.scrollTop) scroller.scrollTop = top;
    else if (top + props.rowHeight > scroller.scrollTop + view) scroller.scrollTop = top + props.rowHeight - view;
    setScrollTop(scroller.scrollTop);
    requestAnimationFrame(() =>
      scroller?.querySelector<HTMLElement>(`tr[data-index="${i}"] :is(a, button)`)?.focus({ preventScroll: true }),
    );
  };

  const keyTarget = (key: string, i: number): number | null => {
    const page = Math.max(1, Math.floor(height() / props.rowHeight) - 2);
    const moves: Record<string, number> = {
      ArrowDown: i + 1,
      ArrowUp: i - 1,
      PageDown: i + page,
      PageUp: i - page,
      Home: 0,
      End: props.count - 1,
    };
    return key in moves ? (moves[key] ?? null) : null;
  };
  const onKeyDown = (e: KeyboardEvent) => {
    const target = e.target as HTMLElement;
    const row = target.closest<HTMLElement>("tr[data-index]");
    if (!row || target.closest('[role="menu"]')) return;
    const to = keyTarget(e.key, Number(row.dataset.index));
    if (to === null) return;
    e.preventDefault();
    focusRow(Math.max(0, Math.min(props.count - 1, to)));
  };

  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: arrow keys are delegated here from the links and buttons inside the rows
    <div ref={scroller} class={`vtable-scroll ${props.class ?? ""}`} onScroll={onScroll} onKeyDown={onKeyDown}>
      <table class="vtable" aria-rowcount={(props.total ?? props.count) + 1}>
        <caption class="sr-only">{props.caption}</caption>
        <thead>{props.head}</thead>
        <tbody style={{ height: `${props.count * props.rowHeight}px` }}>
          <For each={indices()}>
            {(i) => (
              <tr
                data-index={i}
                aria-rowindex={i + 2}
                data-testid={props.rowTestId}
                style={{ transform: `translateY(${i * props.rowHeight}px)` }}
              >
                {props.children(i)}
              </tr>
            )}
          </For>
        </tbody>
      </table>
    </div>
  );
}
