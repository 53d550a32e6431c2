import { existsSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";

/**
 * The file of the web app that the URL path `rel` names, or null when there is none: missing, empty,
 * the directory itself, or outside `webDir` (absolute). Containment is checked on the relative path,
 * not by string prefix, which would let `web/dist-x/…` pass for `web/dist`.
 */
export function staticFile(webDir: string, rel: string): string | null {
  const file = resolve(webDir, rel);
  const below = relative(webDir, file);
  if (below === "" || isAbsolute(below) || below.split(sep)[0] === "..") return null;
  return existsSync(file) && Bun.file(file).size > 0 ? file : null;
}
