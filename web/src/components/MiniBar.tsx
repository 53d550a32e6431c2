import { percent } from "../lib/format.ts";

/** A 0–100 % bar, amber from 75 %, red from 90 %; the number is the accessible value, the bar is decoration. */
export function MiniBar(props: { label: string; value: number | null | undefined; compact?: boolean }) {
  const v = () => (props.value == null ? null : Math.max(0, Math.min(100, props.value)));
  const level = () => {
    const x = v();
    return x == null ? "none" : x >= 90 ? "crit" : x >= 75 ? "warn" : "ok";
  };
  return (
    <div class={props.compact ? "minibar compact" : "minibar"} data-level={level()} title={`${props.label} ${percent(props.value)}`}>
      {props.compact ? <span class="sr-only">{props.label}</span> : <span>{props.label}</span>}
      <div class="track" aria-hidden="true">
        <div class="fill" style={{ width: `${v() ?? 0}%` }} />
      </div>
      <span class="val">{v() == null ? "—" : percent(v())}</span>
    </div>
  );
}
