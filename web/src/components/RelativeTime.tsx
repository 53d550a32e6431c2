import { now } from "../lib/clock.ts";
import { dateTime, relativeTime } from "../lib/format.ts";

/** "42 s ago", ticking every second; the exact time is in the datetime attribute and, on hover, the tooltip. */
export function RelativeTime(props: { value: Date | string | null | undefined }) {
  const iso = () => {
    const v = props.value;
    if (!v) return undefined;
    const d = v instanceof Date ? v : new Date(v);
    return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
  };
  return (
    // The exact time is formatted on hover only: lists re-render this for every row as they scroll.
    <time datetime={iso()} onPointerEnter={(e) => e.currentTarget.setAttribute("title", dateTime(props.value))}>
      {relativeTime(props.value, now())}
    </time>
  );
}
