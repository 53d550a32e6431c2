import { For, Show, createSignal } from "solid-js";
import { api, call, errorMessage } from "../lib/api.ts";

export type PickedDevice = { id: string; hostname: string };

/**
 * Devices picked by searching their hostname: matches (up to 20) as buttons, the chosen ones as
 * removable chips. Answers that arrive after a newer search are dropped.
 */
export function DevicePicker(props: {
  id: string;
  picked: PickedDevice[];
  onChange: (picked: PickedDevice[]) => void;
  onError: (message: string) => void;
}) {
  const [found, setFound] = createSignal<PickedDevice[]>([]);
  let searchSeq = 0;
  const search = async (q: string) => {
    const seq = ++searchSeq;
    if (!q.trim()) return setFound([]);
    try {
      const r = await call(api.api.v1.devices.get({ query: { q: q.trim(), limit: 20 } }));
      if (seq === searchSeq) setFound(r.items.map((d) => ({ id: d.id, hostname: d.hostname })));
    } catch (err) {
      props.onError(errorMessage(err));
    }
  };
  const pick = (d: PickedDevice) => {
    if (!props.picked.some((x) => x.id === d.id)) props.onChange([...props.picked, d]);
  };
  return (
    <div class="field grow">
      <label for={props.id}>Find devices</label>
      <input id={props.id} type="search" placeholder="hostname" onInput={(e) => void search(e.currentTarget.value)} autocomplete="off" />
      <Show when={found().length > 0}>
        <ul class="pick-list" aria-label="Matching devices">
          <For each={found()}>
            {(d) => (
              <li>
                <button type="button" class="btn btn-sm" onClick={() => pick(d)} data-testid="device-pick">
                  + {d.hostname}
                </button>
              </li>
            )}
          </For>
        </ul>
      </Show>
      <ul class="chips" aria-label="Chosen devices">
        <For each={props.picked}>
          {(d) => (
            <li class="tag">
              {d.hostname}{" "}
              <button
                type="button"
                class="chip-x"
                aria-label={`Remove ${d.hostname}`}
                onClick={() => props.onChange(props.picked.filter((x) => x.id !== d.id))}
              >
                ×
              </button>
            </li>
          )}
        </For>
      </ul>
    </div>
  );
}
