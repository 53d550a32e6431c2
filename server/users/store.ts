import type { Sql } from "postgres";
import type { Role } from "../auth/roles.ts";
import { countUsers, endUserSessions } from "../auth/store.ts";

export interface UserSummary {
  id: string;
  email: string;
  name: string;
  role: Role;
  /** The custom role of the organization the user holds (their permissions), or null for the built-in role's. */
  roleId: string | null;
  /** The clients the user is limited to; null for the whole organization. */
  clientIds: string[] | null;
  /** The smart groups whose members the user reaches besides their clients' devices. */
  groupIds: string[] | null;
  createdAt: Date;
  lastLoginAt: Date | null;
  disabledAt: Date | null;
}

const columns = (sql: Sql) => sql`
  id, email, name, role, role_id as "roleId", client_ids as "clientIds", group_ids as "groupIds", created_at as "createdAt", last_login_at as "lastLoginAt", disabled_at as "disabledAt"`;

export async function listUsers(sql: Sql, organizationId: string): Promise<UserSummary[]> {
  return sql<UserSummary[]>`select ${columns(sql)} from users where organization_id = ${organizationId} order by lower(email) limit 1000`;
}

export async function getUser(sql: Sql, organizationId: string, id: string): Promise<UserSummary | undefined> {
  const [row] = await sql<UserSummary[]>`select ${columns(sql)} from users where id = ${id} and organization_id = ${organizationId}`;
  return row;
}

export async function createUser(
  sql: Sql,
  u: {
    organizationId: string;
    email: string;
    name: string;
    role: Role;
    roleId?: string | null;
    clientIds?: string[] | null;
    groupIds?: string[] | null;
    passwordHash: string;
    platformAdmin?: boolean;
  },
): Promise<UserSummary> {
  const [row] = await sql<UserSummary[]>`
    insert into users (organization_id, email, name, role, role_id, client_ids, group_ids, password_hash, platform_admin)
    values (${u.organizationId}, ${u.email}, ${u.name}, ${u.role}, ${u.roleId ?? null}, ${u.clientIds ?? null}::uuid[], ${u.groupIds ?? null}::uuid[],
            ${u.passwordHash}, ${u.platformAdmin ?? false})
    returning ${columns(sql)}`;
  if (!row) throw new Error("insert returned nothing");
  return row;
}

/**
 * Changes role, custom role, clients and groups (`roleId`, `clientIds`, `groupIds`: undefined keeps, null clears), name or disabled state of a
 * user of this organization; disabling ends their sessions.
 */
export async function updateUser(
  sql: Sql,
  organizationId: string,
  id: string,
  change: {
    role?: Role | undefined;
    roleId?: string | null | undefined;
    clientIds?: string[] | null | undefined;
    groupIds?: string[] | null | undefined;
    name?: string | undefined;
    disabled?: boolean | undefined;
  },
): Promise<UserSummary | undefined> {
  return sql.begin(async (t) => {
    const tx = t as unknown as Sql;
    const [row] = await tx<UserSummary[]>`
      update users set
        role = coalesce(${change.role ?? null}, role),
        role_id = case when ${change.roleId !== undefined} then ${change.roleId ?? null}::uuid else role_id end,
        client_ids = case when ${change.clientIds !== undefined} then ${change.clientIds ?? null}::uuid[] else client_ids end,
        group_ids = case when ${change.groupIds !== undefined} then ${change.groupIds ?? null}::uuid[] else group_ids end,
        name = coalesce(${change.name ?? null}, name),
        disabled_at = case when ${change.disabled ?? null}::boolean is null then disabled_at
                           when ${change.disabled ?? null}::boolean then coalesce(disabled_at, now()) else null end
      where id = ${id} and organization_id = ${organizationId}
      returning ${columns(tx)}`;
    if (row?.disabledAt) await endUserSessions(tx, id);
    return row;
  });
}

/** Records a sign-in of the user (their session is the auth store's). */
export async function recordLogin(sql: Sql, userId: string): Promise<void> {
  await sql`update users set last_login_at = now() where id = ${userId}`;
}

/**
 * Runs `create` in one transaction when the database has no user yet, under an advisory lock, so
 * that of several processes starting on an empty database one creates the first admin; undefined
 * when a user exists.
 */
export async function ifNoUsers<T>(sql: Sql, create: (tx: Sql) => Promise<T>): Promise<T | undefined> {
  let out: T | undefined;
  await sql.begin(async (t) => {
    const tx = t as unknown as Sql;
    await tx`select pg_advisory_xact_lock(7336002)`;
    if ((await countUsers(tx)) === 0) out = await create(tx);
  });
  return out;
}
