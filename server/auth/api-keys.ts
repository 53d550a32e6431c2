import { type } from "arktype";
import { Elysia } from "elysia";
import { writeAudit } from "../audit/store.ts";
import type { Services } from "../context.ts";
import { Forbidden, NotFound, ValidationFailed } from "../errors.ts";
import { newSecret, sha256 } from "../lib/crypto.ts";
import { IdParam, Ok, RoleName, Timestamp, errors, listOf } from "../lib/schemas.ts";
import { groupScope } from "../groups/scope.ts";
import { getRole } from "../roles/store.ts";
import { listClients } from "../sites/store.ts";
import { authPlugin } from "./plugin.ts";
import { CLIENT_LEVEL, PERMISSIONS, type Permission, can, isPermission } from "./permissions.ts";
import { BUILT_IN, type Principal, type Role, actorOf } from "./roles.ts";
import { type ApiKeyRow, apiKeyPermissions, expireApiKey, getLiveApiKey, insertApiKey, listApiKeys, revokeApiKey } from "./store.ts";

const Scopes = type
  .enumerated(...PERMISSIONS)
  .array()
  .atMostLength(64);
const NewApiKey = type({
  name: "0 < string <= 200",
  /** A built-in role (default technician)… */
  "role?": "'admin' | 'technician' | 'readonly'",
  /** …or a custom role of the organization. */
  "roleId?": "string.uuid",
  /** Limits the key to these permissions of its role (unset: all of them). */
  "scopes?": Scopes,
  /** Limits the key to these clients' devices, as a client-scoped user (unset: the whole organization). */
  "clientIds?": "0 < string.uuid[] <= 500",
  /** Limits the key to these smart groups' current members (with its clients' devices, if any). */
  "groupIds?": "0 < string.uuid[] <= 100",
  "expiresInDays?": "1 <= number.integer <= 3650",
});
const ApiKey = type({
  id: "string",
  name: "string",
  prefix: "string",
  role: RoleName,
  roleId: "string | null",
  scopes: type
    .enumerated(...PERMISSIONS)
    .array()
    .or("null"),
  clientIds: "string[] | null",
  groupIds: "string[] | null",
  rotatedFrom: "string | null",
  createdAt: Timestamp,
  lastUsedAt: Timestamp.or("null"),
  expiresAt: Timestamp.or("null"),
  revokedAt: Timestamp.or("null"),
});
/** A new key: its settings and, this once, the key itself. */
const CreatedKey = ApiKey.merge({ key: "string" });
/** Rotation: the old key keeps working for this many hours (0: it stops now). */
const Rotate = type({ "graceHours?": "0 <= number.integer <= 168" });

/** What a new key will hold and reach, checked against the organization and the caller. */
interface Grant {
  role: Role;
  roleId: string | null;
  scopes: Permission[] | null;
  clientIds: string[] | null;
  groupIds: string[] | null;
}

/**
 * Checks what a key body grants: 404 for a role or client not of the organization; 422 for scopes
 * beyond the role, or beyond the client level when the key is limited to clients; 403 ROLE_TOO_HIGH
 * when the key would hold a permission the caller does not.
 */
async function grantOf(sql: Services["sql"], principal: Principal, body: typeof NewApiKey.infer): Promise<Grant> {
  if (body.role !== undefined && body.roleId !== undefined) throw new ValidationFailed("give role or roleId, not both", { in: "body" });
  let role: Role = body.role ?? "technician";
  let roleId: string | null = null;
  let custom: string[] | null = null;
  if (body.roleId !== undefined) {
    const r = await getRole(sql, principal.organizationId, body.roleId);
    if (!r) throw new NotFound("ROLE_NOT_FOUND", "no such role in your organization");
    role = "readonly";
    roleId = r.id;
    custom = r.permissions;
  }
  const granted = roleId ? (custom ?? []).filter(isPermission) : BUILT_IN[role];
  const scopes = body.scopes ? [...new Set(body.scopes)] : null;
  const beyond = scopes?.filter((p) => !granted.includes(p)) ?? [];
  if (beyond.length > 0) throw new ValidationFailed(`scopes beyond the key's role: ${beyond.join(", ")}`, { scopes: beyond });
  let clientIds: string[] | null = null;
  if (body.clientIds) {
    clientIds = [...new Set(body.clientIds)];
    const known = new Set((await listClients(sql, principal.organizationId)).map((c) => c.id));
    const missing = clientIds.find((id) => !known.has(id));
    if (missing) throw new NotFound("CLIENT_NOT_FOUND", `no client ${missing} in your organization`);
  }
  const groupIds = (await groupScope(sql, principal, body.groupIds)) ?? null;
  if (clientIds || groupIds) {
    const orgLevel = scopes?.filter((p) => !CLIENT_LEVEL.includes(p)) ?? [];
    if (orgLevel.length > 0)
      throw new ValidationFailed(`a key limited to clients or groups cannot hold organization-wide permissions: ${orgLevel.join(", ")}`, {
        scopes: orgLevel,
      });
  }
  const holds = apiKeyPermissions({ role, roleId, custom, clientIds, groupIds, scopes });
  const above = holds.find((p) => !can(principal, p));
  if (above) throw new Forbidden("ROLE_TOO_HIGH", `you cannot give a key ${above}, which you do not hold`);
  return { role, roleId, scopes, clientIds, groupIds };
}

/** The key's settings for the API (never its hash). */
const shown = (row: ApiKeyRow) => ({
  id: row.id,
  name: row.name,
  prefix: row.prefix,
  role: row.role,
  roleId: row.roleId,
  scopes: row.scopes,
  clientIds: row.clientIds,
  groupIds: row.groupIds,
  rotatedFrom: row.rotatedFrom,
  createdAt: row.createdAt,
  lastUsedAt: row.lastUsedAt,
  expiresAt: row.expiresAt,
  revokedAt: row.revokedAt,
});

/** API keys: a built-in or custom role, narrowed by scopes and clients, with expiry, last use and rotation. */
export function apiKeyRoutes(s: Pick<Services, "sql">) {
  const issue = async (principal: Principal, name: string, grant: Grant, expiresAt: Date | null, rotatedFrom: string | null) => {
    const key = newSecret("spk_", 32);
    const row = await insertApiKey(s.sql, {
      organizationId: principal.organizationId,
      createdBy: principal.kind === "user" ? principal.id : null,
      name,
      prefix: key.slice(0, 10),
      keyHash: sha256(key),
      ...grant,
      rotatedFrom,
      expiresAt,
    });
    return { ...shown(row), key };
  };
  return new Elysia({ prefix: "/api/v1/api-keys" })
    .use(authPlugin(s.sql))
    .get("/", async ({ principal }) => ({ items: (await listApiKeys(s.sql, principal.organizationId)).map(shown) }), {
      permission: "users:manage",
      response: { 200: listOf(ApiKey) },
      detail: { summary: "API keys of the organization (never the keys themselves)", tags: ["auth"] },
    })
    .post(
      "/",
      async ({ body, principal, set }) => {
        const grant = await grantOf(s.sql, principal, body);
        const expiresAt = body.expiresInDays ? new Date(Date.now() + body.expiresInDays * 86_400_000) : null;
        const created = await issue(principal, body.name, grant, expiresAt, null);
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "api_key.created",
          targetType: "api_key",
          targetId: created.id,
          details: { name: created.name, ...grant, expiresAt },
        });
        set.status = 201;
        return created;
      },
      {
        permission: "users:manage",
        body: NewApiKey,
        response: { 201: CreatedKey, ...errors(403, 404, 422) },
        detail: { summary: "Create an API key (shown once)", tags: ["auth"] },
      },
    )
    .post(
      "/:id/rotate",
      async ({ params, body, principal, set }) => {
        const old = await getLiveApiKey(s.sql, principal.organizationId, params.id);
        if (!old) throw new NotFound("API_KEY_NOT_FOUND", "no such live API key");
        const grant = { role: old.role, roleId: old.roleId, scopes: old.scopes, clientIds: old.clientIds, groupIds: old.groupIds };
        // the caller must be able to issue the same key anew
        await grantOf(s.sql, principal, {
          name: old.name,
          ...(old.roleId ? { roleId: old.roleId } : { role: old.role as "admin" | "technician" | "readonly" }),
          ...(old.scopes ? { scopes: old.scopes } : {}),
          ...(old.clientIds ? { clientIds: old.clientIds } : {}),
          ...(old.groupIds ? { groupIds: old.groupIds } : {}),
        });
        const created = await issue(principal, old.name, grant, old.expiresAt, old.id);
        const graceHours = body.graceHours ?? 0;
        if (graceHours === 0) await revokeApiKey(s.sql, principal.organizationId, old.id);
        else await expireApiKey(s.sql, principal.organizationId, old.id, new Date(Date.now() + graceHours * 3_600_000));
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "api_key.rotated",
          targetType: "api_key",
          targetId: old.id,
          details: { name: old.name, replacedBy: created.id, graceHours },
        });
        set.status = 201;
        return created;
      },
      {
        permission: "users:manage",
        params: IdParam,
        body: Rotate,
        response: { 201: CreatedKey, ...errors(403, 404, 422) },
        detail: {
          summary: "Rotate an API key: a new key with the same settings (shown once); the old one stops now or after a grace period",
          tags: ["auth"],
        },
      },
    )
    .delete(
      "/:id",
      async ({ params, principal }) => {
        if (!(await revokeApiKey(s.sql, principal.organizationId, params.id))) throw new NotFound("API_KEY_NOT_FOUND", "no such API key");
        await writeAudit(s.sql, { ...actorOf(principal), action: "api_key.revoked", targetType: "api_key", targetId: params.id });
        return { ok: true };
      },
      {
        permission: "users:manage",
        params: IdParam,
        response: { 200: Ok, ...errors(404, 422) },
        detail: { summary: "Revoke an API key", tags: ["auth"] },
      },
    );
}
