import type { Sql } from "postgres";
import { NotFound, ValidationFailed } from "../errors.ts";
import type { CommandSpec, ScriptLanguage } from "../protocol/frames.ts";
import { getScript } from "./store.ts";

/** A script given by reference to the library, or inline; the shape schedules, checks and workflows accept. */
export interface ScriptSource {
  scriptId?: string | undefined;
  language?: ScriptLanguage | undefined;
  content?: string | undefined;
  args?: string[] | undefined;
  /** Environment variables for the script (names already checked). */
  env?: Record<string, string> | undefined;
  timeoutSeconds?: number | undefined;
}

/**
 * The command that runs a script source: the library script's current content (its default
 * arguments and timeout unless overridden), or the inline script. Throws a 404 for a script that is
 * not the organization's and a 400 when neither form is complete.
 */
export async function scriptSpec(sql: Sql, organizationId: string, src: ScriptSource): Promise<CommandSpec> {
  if (src.scriptId) {
    const script = await getScript(sql, organizationId, src.scriptId);
    if (!script) throw new NotFound("SCRIPT_NOT_FOUND", "no such script in your organization");
    return {
      kind: "run_script",
      language: script.language,
      content: script.content,
      args: src.args ?? script.defaultArgs,
      env: src.env ?? {},
      timeoutSeconds: src.timeoutSeconds ?? script.timeoutSeconds,
    };
  }
  if (!src.language || !src.content) throw new ValidationFailed("give scriptId, or language and content");
  return {
    kind: "run_script",
    language: src.language,
    content: src.content,
    args: src.args ?? [],
    env: src.env ?? {},
    timeoutSeconds: src.timeoutSeconds ?? 300,
  };
}

/**
 * A stored command with the current text of the library script it came from (so edits to the script
 * reach schedules and checks made before them); the stored arguments and timeout stay. Unchanged
 * when the script is gone or was never from the library.
 */
export async function withCurrentScript(
  sql: Sql,
  organizationId: string,
  spec: CommandSpec,
  scriptId: string | null,
): Promise<CommandSpec> {
  if (!scriptId || spec.kind !== "run_script") return spec;
  const script = await getScript(sql, organizationId, scriptId);
  return script ? { ...spec, language: script.language, content: script.content } : spec;
}
