import { createSignal } from "solid-js";

export interface Toast {
  id: number;
  kind: "info" | "success" | "error";
  text: string;
  href?: string | undefined;
}

const [toasts, setToasts] = createSignal<Toast[]>([]);
let seq = 0;

export { toasts };

/** Shows a short message in the live region; errors stay longer. */
export function toast(kind: Toast["kind"], text: string, href?: string): void {
  const id = ++seq;
  setToasts((list) => [...list.slice(-4), { id, kind, text, href }]);
  setTimeout(() => dismiss(id), kind === "error" ? 9000 : 5000);
}

export function dismiss(id: number): void {
  setToasts((list) => list.filter((t) => t.id !== id));
}
