import { createSignal } from "solid-js";

/** Wall-clock milliseconds, ticking once a second, so relative times ("12 s ago") stay current. */
const [now, setNow] = createSignal(Date.now());
setInterval(() => setNow(Date.now()), 1000);

export { now };
