import { createSignal } from "solid-js";

export type Theme = "light" | "dark";
const KEY = "sentpulse.theme";

function stored(): Theme | null {
  try {
    const t = localStorage.getItem(KEY);
    return t === "light" || t === "dark" ? t : null;
  } catch {
    return null;
  }
}

const media = matchMedia("(prefers-color-scheme: dark)");
const [theme, setThemeSignal] = createSignal<Theme>(stored() ?? (media.matches ? "dark" : "light"));
document.documentElement.dataset.theme = theme();

// Follow the system until the technician picks a theme.
media.addEventListener("change", (e) => {
  if (!stored()) apply(e.matches ? "dark" : "light");
});

function apply(t: Theme): void {
  document.documentElement.dataset.theme = t;
  setThemeSignal(t);
}

export { theme };

/** Switches between light and dark and remembers the choice. */
export function toggleTheme(): void {
  const next: Theme = theme() === "dark" ? "light" : "dark";
  try {
    localStorage.setItem(KEY, next);
  } catch {}
  apply(next);
}
