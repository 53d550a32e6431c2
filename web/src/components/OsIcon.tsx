import { OS_LABEL } from "../lib/format.ts";

const KNOWN = new Set(["linux", "windows", "darwin"]);

/** A small glyph for Linux, Windows or macOS (CSS mask, see components.css), labelled for screen readers. */
export function OsIcon(props: { os: string }) {
  return <span class={`os-icon os-${KNOWN.has(props.os) ? props.os : "other"}`} role="img" aria-label={OS_LABEL[props.os] ?? props.os} />;
}
