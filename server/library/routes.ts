import { type } from "arktype";
import { Elysia } from "elysia";
import { fieldChanges } from "../audit/changes.ts";
import { writeAudit } from "../audit/store.ts";
import { authPlugin } from "../auth/plugin.ts";
import { actorOf } from "../auth/roles.ts";
import type { Services } from "../context.ts";
import { NotFound } from "../errors.ts";
import { IdParam, Ok, Timestamp, errors, listOf } from "../lib/schemas.ts";
import { ScriptLanguage } from "../protocol/frames.ts";
import { type ScriptRow, deleteScript, getScript, insertScript, listScripts, updateScript } from "./store.ts";

const ScriptBody = type({
  name: "0 < string <= 200",
  "description?": "string <= 2000",
  language: ScriptLanguage,
  content: "0 < string <= 262144",
  "defaultArgs?": "(string <= 1024)[] <= 64",
  "timeoutSeconds?": "1 <= number.integer <= 86400",
  "tags?": "(0 < string <= 64)[] <= 32",
});
const Script = type({
  id: "string",
  name: "string",
  description: "string",
  language: ScriptLanguage,
  content: "string",
  defaultArgs: "string[]",
  timeoutSeconds: "number",
  tags: "string[]",
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

/** The fields of a script whose changes its audit entry lists (long content is cut). */
const SCRIPT_AUDITED: (keyof ScriptRow)[] = ["name", "description", "language", "content", "defaultArgs", "timeoutSeconds", "tags"];

/** The script library: bash, sh, PowerShell and Python scripts with default arguments and a timeout. */
export function libraryRoutes(s: Pick<Services, "sql">) {
  const mustFind = async (organizationId: string, id: string) => {
    const row = await getScript(s.sql, organizationId, id);
    if (!row) throw new NotFound("SCRIPT_NOT_FOUND", "no such script in your organization");
    return row;
  };
  return new Elysia({ prefix: "/api/v1/scripts" })
    .use(authPlugin(s.sql))
    .get("/", async ({ principal }) => ({ items: await listScripts(s.sql, principal.organizationId) }), {
      permission: "device:view",
      response: { 200: listOf(Script) },
      detail: { summary: "The script library", tags: ["scripts"] },
    })
    .get("/:id", ({ params, principal }) => mustFind(principal.organizationId, params.id), {
      permission: "device:view",
      params: IdParam,
      response: { 200: Script, ...errors(404, 422) },
      detail: { summary: "One script", tags: ["scripts"] },
    })
    .post(
      "/",
      async ({ body, principal, set }) => {
        const row = await insertScript(s.sql, principal.organizationId, principal.kind === "user" ? principal.id : null, body);
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "script.created",
          targetType: "script",
          targetId: row.id,
          details: { name: row.name },
        });
        set.status = 201;
        return row;
      },
      {
        permission: "script:manage",
        body: ScriptBody,
        response: { 201: Script, ...errors(409, 422) },
        detail: { summary: "Add a script to the library", tags: ["scripts"] },
      },
    )
    .put(
      "/:id",
      async ({ params, body, principal, server, request }) => {
        const before = await mustFind(principal.organizationId, params.id);
        const row = await updateScript(s.sql, principal.organizationId, params.id, body);
        if (!row) throw new NotFound("SCRIPT_NOT_FOUND", "no such script in your organization");
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "script.updated",
          targetType: "script",
          targetId: row.id,
          details: { name: row.name, changes: fieldChanges(before, row, SCRIPT_AUDITED) },
          ip: server?.requestIP(request)?.address ?? null,
        });
        return row;
      },
      {
        permission: "script:manage",
        params: IdParam,
        body: ScriptBody,
        response: { 200: Script, ...errors(404, 409, 422) },
        detail: { summary: "Replace a script", tags: ["scripts"] },
      },
    )
    .delete(
      "/:id",
      async ({ params, principal }) => {
        if (!(await deleteScript(s.sql, principal.organizationId, params.id)))
          throw new NotFound("SCRIPT_NOT_FOUND", "no such script in your organization");
        await writeAudit(s.sql, { ...actorOf(principal), action: "script.deleted", targetType: "script", targetId: params.id });
        return { ok: true };
      },
      {
        permission: "script:manage",
        params: IdParam,
        response: { 200: Ok, ...errors(404, 422) },
        detail: { summary: "Delete a script", tags: ["scripts"] },
      },
    );
}
