import * as v from "valibot";

/** Field name → first message, from a failed valibot parse. */
export function fieldErrors(issues: readonly v.BaseIssue<unknown>[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of issues) {
    const key = v.getDotPath(issue) ?? "form";
    if (!(key in out)) out[key] = issue.message;
  }
  return out;
}
