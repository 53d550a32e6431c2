import type { Sql } from "postgres";
import { CLIENT_LEVEL, isPermission, isScoped, type Permission, type Reach } from "./permissions.ts";
import { BUILT_IN, type Principal, type Role } from "./roles.ts";

export interface UserRow {
  id: string;
  organizationId: string;
  email: string;
  name: string;
  role: Role;
  passwordHash: string;
  totpSecret: string | null;
  disabledAt: Date | null;
  createdAt: Date;
  lastLoginAt: Date | null;
}

const userColumns = (sql: Sql) => sql`
  id, organization_id as "organizationId", email, name, role, password_hash as "passwordHash",
  totp_secret as "totpSecret", disabled_at as "disabledAt", created_at as "createdAt", last_login_at as "lastLoginAt"`;

export async function findUserByEmail(sql: Sql, email: string): Promise<UserRow | undefined> {
  const [row] = await sql<UserRow[]>`select ${userColumns(sql)} from users where lower(email) = lower(${email})`;
  return row;
}

export async function countUsers(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from users`;
  return row?.n ?? 0;
}

export async function insertSession(
  sql: Sql,
  s: {
    userId: string;
    tokenHash: Buffer;
    expiresAt: Date;
    ip: string | null;
    userAgent: string | null;
  },
): Promise<void> {
  await sql`
    insert into sessions (user_id, token_hash, expires_at, ip, user_agent)
    values (${s.userId}, ${s.tokenHash}, ${s.expiresAt}, ${s.ip}, ${s.userAgent})`;
}

/**
 * A user's permissions: the custom role's set when one is assigned (names no longer on the list are
 * dropped), else the built-in role's; a user limited to chosen clients or groups keeps only the
 * client-level ones (`CLIENT_LEVEL`). A custom role that vanished grants nothing.
 */
function permissionSet(role: Role, roleId: string | null, custom: string[] | null, reach: Reach): readonly Permission[] {
  const granted = roleId ? (custom ?? []).filter(isPermission) : BUILT_IN[role];
  return isScoped(reach) ? granted.filter((p) => CLIENT_LEVEL.includes(p)) : granted;
}

/** What a key may do: its role's permissions (custom or built-in, client-level only when limited to clients) within its scopes. */
export function apiKeyPermissions(k: {
  role: Role;
  roleId: string | null;
  custom: string[] | null;
  clientIds: string[] | null;
  groupIds: string[] | null;
  scopes: Permission[] | null;
}): readonly Permission[] {
  const granted = permissionSet(k.role, k.roleId, k.custom, k);
  return k.scopes ? granted.filter((p) => k.scopes?.includes(p)) : granted;
}

/** The principal of a live session, sliding its expiry forward at most once a minute. */
export async function principalForSession(sql: Sql, tokenHash: Buffer, ttlSeconds: number): Promise<Principal | undefined> {
  const [row] = await sql<(Principal & { sessionId: string; stale: boolean; custom: string[] | null })[]>`
    select s.id as "sessionId", u.id, u.organization_id as "organizationId", u.role, u.role_id as "roleId", u.client_ids as "clientIds", u.group_ids as "groupIds", u.email,
           u.platform_admin as "platformAdmin", s.last_used_at < now() - interval '1 minute' as stale,
           r.permissions as custom
    from sessions s join users u on u.id = s.user_id
    left join roles r on r.id = u.role_id and r.organization_id = u.organization_id
    where s.token_hash = ${tokenHash} and s.expires_at > now() and u.disabled_at is null`;
  if (!row) return undefined;
  if (row.stale) {
    await sql`
      update sessions set last_used_at = now(), expires_at = now() + make_interval(secs => ${ttlSeconds})
      where id = ${row.sessionId}`;
  }
  return {
    kind: "user",
    id: row.id,
    organizationId: row.organizationId,
    role: row.role,
    roleId: row.roleId,
    permissions: permissionSet(row.role, row.roleId, row.custom, row),
    clientIds: row.clientIds,
    groupIds: row.groupIds,
    email: row.email,
    name: row.email ?? "",
    platformAdmin: row.platformAdmin,
  };
}

export async function deleteSession(sql: Sql, tokenHash: Buffer): Promise<void> {
  await sql`delete from sessions where token_hash = ${tokenHash}`;
}

/** Ends every session of the user (disabled). */
export async function endUserSessions(sql: Sql, userId: string): Promise<void> {
  await sql`delete from sessions where user_id = ${userId}`;
}

export async function deleteExpiredSessions(sql: Sql): Promise<number> {
  const rows = await sql`delete from sessions where expires_at < now() returning 1`;
  return rows.count;
}

export interface ApiKeyRow {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  /** The permissions the key is limited to (null: every permission of its role). */
  scopes: Permission[] | null;
  /** A custom role of the organization held instead of the built-in one (`role` is then `readonly`). */
  roleId: string | null;
  /** The clients the key reaches (with `groupIds`; null on both: the whole organization). */
  clientIds: string[] | null;
  /** The smart groups whose members the key reaches besides its clients' devices. */
  groupIds: string[] | null;
  /** The key this one replaced by rotation. */
  rotatedFrom: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

export async function insertApiKey(
  sql: Sql,
  k: {
    organizationId: string;
    createdBy: string | null;
    name: string;
    prefix: string;
    keyHash: Buffer;
    role: Role;
    scopes: Permission[] | null;
    roleId: string | null;
    clientIds: string[] | null;
    groupIds: string[] | null;
    rotatedFrom: string | null;
    expiresAt: Date | null;
  },
): Promise<ApiKeyRow> {
  const [row] = await sql<ApiKeyRow[]>`
    insert into api_keys (organization_id, created_by, name, prefix, key_hash, role, scopes, role_id, client_ids, group_ids, rotated_from, expires_at)
    values (${k.organizationId}, ${k.createdBy}, ${k.name}, ${k.prefix}, ${k.keyHash}, ${k.role}, ${k.scopes}, ${k.roleId},
            ${k.clientIds}, ${k.groupIds}, ${k.rotatedFrom}, ${k.expiresAt})
    returning ${apiKeyColumns(sql)}`;
  if (!row) throw new Error("insert returned nothing");
  return row;
}

const apiKeyColumns = (sql: Sql) => sql`
  id, name, prefix, role, scopes, role_id as "roleId", client_ids as "clientIds", group_ids as "groupIds", rotated_from as "rotatedFrom",
  created_at as "createdAt", last_used_at as "lastUsedAt", expires_at as "expiresAt", revoked_at as "revokedAt"`;

export async function listApiKeys(sql: Sql, organizationId: string): Promise<ApiKeyRow[]> {
  return sql<ApiKeyRow[]>`
    select ${apiKeyColumns(sql)} from api_keys where organization_id = ${organizationId} order by created_at desc`;
}

/** A live (not revoked, not expired) key of the organization. */
export async function getLiveApiKey(sql: Sql, organizationId: string, id: string): Promise<ApiKeyRow | undefined> {
  const [row] = await sql<ApiKeyRow[]>`
    select ${apiKeyColumns(sql)} from api_keys
    where id = ${id} and organization_id = ${organizationId} and revoked_at is null and (expires_at is null or expires_at > now())`;
  return row;
}

/** Ends a key's life at `at` (rotation's grace period): the earlier of its expiry and `at`. */
export async function expireApiKey(sql: Sql, organizationId: string, id: string, at: Date): Promise<void> {
  await sql`
    update api_keys set expires_at = least(coalesce(expires_at, ${at}), ${at})
    where id = ${id} and organization_id = ${organizationId}`;
}

/** Revokes a key of this organization; false when there is no such live key. */
export async function revokeApiKey(sql: Sql, organizationId: string, id: string): Promise<boolean> {
  const rows = await sql`
    update api_keys set revoked_at = now()
    where id = ${id} and organization_id = ${organizationId} and revoked_at is null returning id`;
  return rows.count > 0;
}

/** The principal of a live API key, recording its use at most once a minute. */
export async function principalForApiKey(sql: Sql, keyHash: Buffer): Promise<Principal | undefined> {
  const [row] = await sql<
    (Principal & {
      stale: boolean;
      scopes: Permission[] | null;
      custom: string[] | null;
      clientIds: string[] | null;
      groupIds: string[] | null;
    })[]
  >`
    select k.id, k.organization_id as "organizationId", k.role, k.role_id as "roleId", k.client_ids as "clientIds", k.group_ids as "groupIds", k.name, k.scopes,
           r.permissions as custom, coalesce(k.last_used_at < now() - interval '1 minute', true) as stale
    from api_keys k left join roles r on r.id = k.role_id and r.organization_id = k.organization_id
    where k.key_hash = ${keyHash} and k.revoked_at is null and (k.expires_at is null or k.expires_at > now())`;
  if (!row) return undefined;
  if (row.stale) await sql`update api_keys set last_used_at = now() where id = ${row.id}`;
  return {
    kind: "api_key",
    id: row.id,
    organizationId: row.organizationId,
    role: row.role,
    roleId: row.roleId,
    // a scoped key holds the scopes its role grants (client-level ones only when limited to clients), never more
    permissions: apiKeyPermissions(row),
    clientIds: row.clientIds,
    groupIds: row.groupIds,
    email: null,
    name: row.name,
    platformAdmin: false,
  };
}
