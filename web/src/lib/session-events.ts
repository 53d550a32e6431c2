import { createSignal } from "solid-js";

/** Bumped each time an API call answers 401; the shell watches it and sends the technician to login. */
const [expiredAt, setExpiredAt] = createSignal(0);

export { expiredAt };

/** Called by the API helper when the server says the session is gone. */
export function sessionExpired(): void {
  setExpiredAt(Date.now());
}
