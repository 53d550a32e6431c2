import { For, createUniqueId } from "solid-js";

/** A radio group drawn as a segmented control: native radios, so arrow keys and screen readers just work. */
export function Segmented<T extends string>(props: {
  label: string;
  options: readonly { value: T; label: string }[];
  value: T;
  onChange: (v: T) => void;
}) {
  const name = createUniqueId();
  return (
    <fieldset class="segmented">
      <legend class="sr-only">{props.label}</legend>
      <For each={props.options}>
        {(o) => (
          <label>
            <input
              type="radio"
              class="sr-only"
              name={name}
              value={o.value}
              checked={o.value === props.value}
              onChange={() => props.onChange(o.value)}
            />
            <span>{o.label}</span>
          </label>
        )}
      </For>
    </fieldset>
  );
}
