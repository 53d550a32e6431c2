import type { Sql } from "postgres";
import type { ScriptLanguage } from "../protocol/frames.ts";

export interface ScriptRow {
  id: string;
  name: string;
  description: string;
  language: ScriptLanguage;
  content: string;
  defaultArgs: string[];
  timeoutSeconds: number;
  tags: string[];
  createdAt: Date;
  updatedAt: Date;
}

export interface ScriptInput {
  name: string;
  description?: string | undefined;
  language: ScriptLanguage;
  content: string;
  defaultArgs?: string[] | undefined;
  timeoutSeconds?: number | undefined;
  tags?: string[] | undefined;
}

const columns = (sql: Sql) => sql`
  id, name, description, language, content, default_args as "defaultArgs", timeout_seconds as "timeoutSeconds",
  tags, created_at as "createdAt", updated_at as "updatedAt"`;

export async function listScripts(sql: Sql, organizationId: string): Promise<ScriptRow[]> {
  return sql<ScriptRow[]>`select ${columns(sql)} from scripts where organization_id = ${organizationId} order by lower(name) limit 2000`;
}

export async function getScript(sql: Sql, organizationId: string, id: string): Promise<ScriptRow | undefined> {
  const [row] = await sql<ScriptRow[]>`select ${columns(sql)} from scripts where id = ${id} and organization_id = ${organizationId}`;
  return row;
}

export async function insertScript(sql: Sql, organizationId: string, createdBy: string | null, s: ScriptInput): Promise<ScriptRow> {
  const [row] = await sql<ScriptRow[]>`
    insert into scripts (organization_id, name, description, language, content, default_args, timeout_seconds, tags, created_by)
    values (${organizationId}, ${s.name}, ${s.description ?? ""}, ${s.language}, ${s.content}, ${s.defaultArgs ?? []},
            ${s.timeoutSeconds ?? 300}, ${s.tags ?? []}, ${createdBy})
    returning ${columns(sql)}`;
  if (!row) throw new Error("insert returned nothing");
  return row;
}

export async function updateScript(sql: Sql, organizationId: string, id: string, s: ScriptInput): Promise<ScriptRow | undefined> {
  const [row] = await sql<ScriptRow[]>`
    update scripts set name = ${s.name}, description = ${s.description ?? ""}, language = ${s.language}, content = ${s.content},
      default_args = ${s.defaultArgs ?? []}, timeout_seconds = ${s.timeoutSeconds ?? 300}, tags = ${s.tags ?? []}, updated_at = now()
    where id = ${id} and organization_id = ${organizationId}
    returning ${columns(sql)}`;
  return row;
}

export async function deleteScript(sql: Sql, organizationId: string, id: string): Promise<boolean> {
  const rows = await sql`delete from scripts where id = ${id} and organization_id = ${organizationId} returning id`;
  return rows.count > 0;
}
