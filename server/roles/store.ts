import type { Sql } from "postgres";

/** A custom role of an organization: a name and a set of named permissions. */
export interface CustomRole {
  id: string;
  name: string;
  permissions: string[];
  /** How many users of the organization hold it. */
  users: number;
  createdAt: Date;
  updatedAt: Date;
}

const columns = (sql: Sql) => sql`
  r.id, r.name, r.permissions, r.created_at as "createdAt", r.updated_at as "updatedAt",
  (select count(*)::int from users u where u.role_id = r.id) as users`;

/** The organization's custom roles, by name. */
export async function listRoles(sql: Sql, organizationId: string): Promise<CustomRole[]> {
  return sql<
    CustomRole[]
  >`select ${columns(sql)} from roles r where r.organization_id = ${organizationId} order by lower(r.name) limit 500`;
}

/** One custom role of the organization (undefined for another organization's). */
export async function getRole(sql: Sql, organizationId: string, id: string): Promise<CustomRole | undefined> {
  const [row] = await sql<CustomRole[]>`select ${columns(sql)} from roles r where r.id = ${id} and r.organization_id = ${organizationId}`;
  return row;
}

/** A new custom role; a duplicate name is a unique violation (409). */
export async function insertRole(sql: Sql, organizationId: string, role: { name: string; permissions: string[] }): Promise<CustomRole> {
  const [row] = await sql<{ id: string }[]>`
    insert into roles (organization_id, name, permissions) values (${organizationId}, ${role.name}, ${role.permissions}) returning id`;
  const made = row && (await getRole(sql, organizationId, row.id));
  if (!made) throw new Error("insert returned nothing");
  return made;
}

/** Renames a custom role and/or replaces its permissions; undefined when it is not the organization's. */
export async function updateRole(
  sql: Sql,
  organizationId: string,
  id: string,
  change: { name?: string | undefined; permissions?: string[] | undefined },
): Promise<CustomRole | undefined> {
  const rows = await sql`
    update roles set name = coalesce(${change.name ?? null}, name),
                     permissions = coalesce(${change.permissions ?? null}::text[], permissions), updated_at = now()
    where id = ${id} and organization_id = ${organizationId} returning id`;
  return rows.count > 0 ? getRole(sql, organizationId, id) : undefined;
}

/** Deletes an unused custom role: "deleted", "missing" (not the organization's) or "in_use" (a user holds it). */
export async function deleteRole(sql: Sql, organizationId: string, id: string): Promise<"deleted" | "missing" | "in_use"> {
  return sql.begin(async (t) => {
    const tx = t as unknown as Sql;
    const [role] = await tx`select id from roles where id = ${id} and organization_id = ${organizationId} for update`;
    if (!role) return "missing";
    const [used] = await tx`
      select 1 from users where role_id = ${id} union all select 1 from api_keys where role_id = ${id} and revoked_at is null limit 1`;
    if (used) return "in_use";
    await tx`delete from roles where id = ${id}`;
    return "deleted";
  });
}
