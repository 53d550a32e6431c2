import { createSignal, onCleanup } from "solid-js";
import { errorMessage } from "../../lib/api.ts";

/**
 * Loads `load()` now and again `everyMs` after each answer, only while the page is visible and the
 * component lives: nobody watching means no request, so the agent collects nothing. Without
 * `everyMs` it loads once (and on `reload`).
 */
export function poll<T>(load: () => Promise<T>, everyMs?: number) {
  const [data, setData] = createSignal<T>();
  const [error, setError] = createSignal<string>();
  const [loading, setLoading] = createSignal(true);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let alive = true;
  let busy = false;
  const tick = async () => {
    clearTimeout(timer);
    if (!alive || busy) return;
    if (document.visibilityState !== "visible") return; // resumes on visibilitychange
    busy = true;
    try {
      const v = await load();
      if (!alive) return;
      setData(() => v);
      setError(undefined);
    } catch (e) {
      if (alive) setError(errorMessage(e));
    } finally {
      busy = false;
      setLoading(false);
    }
    if (alive && everyMs) timer = setTimeout(() => void tick(), everyMs);
  };
  const onVisible = () => {
    if (document.visibilityState === "visible") void tick();
    else clearTimeout(timer);
  };
  document.addEventListener("visibilitychange", onVisible);
  void tick();
  onCleanup(() => {
    alive = false;
    clearTimeout(timer);
    document.removeEventListener("visibilitychange", onVisible);
  });
  return { data, error, loading, reload: () => void tick() };
}
