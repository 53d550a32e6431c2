import { type } from "arktype";
import { Elysia } from "elysia";
import { fieldChanges } from "../audit/changes.ts";
import { writeAudit } from "../audit/store.ts";
import { can, isPermission, reaches } from "../auth/permissions.ts";
import { authPlugin } from "../auth/plugin.ts";
import { endUserSessions } from "../auth/store.ts";
import { clearTotp } from "../auth/totp.store.ts";
import { BUILT_IN, type Principal, type Role as BuiltIn, actorOf } from "../auth/roles.ts";
import type { Services } from "../context.ts";
import { BadRequest, Forbidden, NotFound, ValidationFailed } from "../errors.ts";
import { IdParam, Ok, RoleName, Timestamp, errors, listOf } from "../lib/schemas.ts";
import { groupScope } from "../groups/scope.ts";
import { permissionsFor } from "../roles/grant.ts";
import { getRole } from "../roles/store.ts";
import { listClients } from "../sites/store.ts";
import { checkPassword } from "./password-policy.ts";
import { createUser, getUser, listUsers, updateUser } from "./store.ts";

/** A built-in role; `viewer` is accepted for `readonly` (the name it is stored under). */
const Role = RoleName.or("'viewer'").pipe((r): BuiltIn => (r === "viewer" ? "readonly" : r));
const User = type({
  id: "string",
  email: "string",
  name: "string",
  role: RoleName,
  roleId: "string | null",
  clientIds: "string[] | null",
  groupIds: "string[] | null",
  createdAt: Timestamp,
  lastLoginAt: Timestamp.or("null"),
  disabledAt: Timestamp.or("null"),
});
const NewUser = type({
  email: "string.email <= 320",
  "name?": "string <= 200",
  "role?": Role,
  "roleId?": "string.uuid",
  "clientIds?": "string.uuid[] <= 500",
  /** Smart groups whose current members the user reaches (with their clients' devices, if any). */
  "groupIds?": "0 < string.uuid[] <= 100",
  password: "0 < string <= 1024",
});
const Change = type({
  "role?": Role,
  "roleId?": "string.uuid",
  "clientIds?": type("string.uuid[] <= 500").or("null"),
  "groupIds?": type("0 < string.uuid[] <= 100").or("null"),
  "name?": "string <= 200",
  "disabled?": "boolean",
});

/**
 * The clients a body limits a user to (null: the whole organization): 404 CLIENT_NOT_FOUND for a
 * client not of the organization; a caller limited to clients grants only theirs (403 CLIENT_SCOPED).
 */
async function clientScope(
  sql: Services["sql"],
  principal: Principal,
  clientIds: readonly string[] | null | undefined,
): Promise<string[] | null | undefined> {
  if (clientIds === undefined) return principal.clientIds ? [...principal.clientIds] : undefined;
  if (clientIds === null) {
    if (principal.clientIds)
      throw new Forbidden("CLIENT_SCOPED", "you reach chosen clients only, so you cannot grant the whole organization");
    return null;
  }
  const ids = [...new Set(clientIds)];
  const known = new Set((await listClients(sql, principal.organizationId)).map((c) => c.id));
  const missing = ids.find((id) => !known.has(id));
  if (missing) throw new NotFound("CLIENT_NOT_FOUND", `no client ${missing} in your organization`);
  if (principal.clientIds && ids.some((id) => !reaches(principal, id)))
    throw new Forbidden("CLIENT_SCOPED", "you can only grant clients you reach yourself");
  return ids;
}

/**
 * What a body assigns: a built-in role, or a custom role of the caller's organization (404 for
 * another's), stored with the `readonly` base; 403 ROLE_TOO_HIGH when it grants more than the caller has.
 */
async function assignment(
  sql: Services["sql"],
  principal: Principal,
  body: { role?: BuiltIn | undefined; roleId?: string | undefined },
): Promise<{ role: BuiltIn; roleId: string | null } | undefined> {
  if (body.role !== undefined && body.roleId !== undefined) throw new ValidationFailed("give role or roleId, not both", { in: "body" });
  if (body.roleId !== undefined) {
    const custom = await getRole(sql, principal.organizationId, body.roleId);
    if (!custom) throw new NotFound("ROLE_NOT_FOUND", "no such role in your organization");
    permissionsFor(principal, custom.permissions);
    return { role: "readonly", roleId: custom.id };
  }
  if (body.role === undefined) return undefined;
  if (!BUILT_IN[body.role].every((p) => can(principal, p))) throw new Forbidden("ROLE_TOO_HIGH", "you cannot grant a role above your own");
  return { role: body.role, roleId: null };
}

/** A user of the caller's organization whose role is not above the caller's: 404 / 403 otherwise. */
async function manageableUser(sql: Services["sql"], principal: Principal, id: string) {
  const target = await getUser(sql, principal.organizationId, id);
  if (!target) throw new NotFound("USER_NOT_FOUND", "no such user in your organization");
  if (!(await withinReach(sql, principal, target))) throw new Forbidden("ROLE_TOO_HIGH", "that user's role is above yours");
  return target;
}

/**
 * True when the caller holds every permission the target user holds (built-in or custom role): one
 * may manage only those not above oneself.
 */
async function withinReach(sql: Services["sql"], principal: Principal, target: { role: BuiltIn; roleId: string | null }): Promise<boolean> {
  const theirs = target.roleId ? ((await getRole(sql, principal.organizationId, target.roleId))?.permissions ?? []) : BUILT_IN[target.role];
  return theirs.every((p) => isPermission(p) && can(principal, p));
}

/** People of the organization: list, invite with a role, change role, disable. Admins only. */
export function userRoutes(s: Pick<Services, "sql">) {
  const manageable = (principal: Principal, id: string) => manageableUser(s.sql, principal, id);
  return new Elysia({ prefix: "/api/v1/users" })
    .use(authPlugin(s.sql))
    .get("/", async ({ principal }) => ({ items: await listUsers(s.sql, principal.organizationId) }), {
      permission: "users:manage",
      response: { 200: listOf(User) },
      detail: { summary: "Users of the organization", tags: ["users"] },
    })
    .post(
      "/",
      async ({ body, principal, set }) => {
        const given = await assignment(s.sql, principal, body);
        if (!given) throw new ValidationFailed("give a role or a roleId", { in: "body" });
        checkPassword(body.password, body.email);
        const user = await createUser(s.sql, {
          organizationId: principal.organizationId,
          email: body.email,
          name: body.name ?? "",
          ...given,
          clientIds: (await clientScope(s.sql, principal, body.clientIds)) ?? null,
          groupIds: (await groupScope(s.sql, principal, body.groupIds)) ?? null,
          passwordHash: await Bun.password.hash(body.password, { algorithm: "argon2id" }),
        });
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "user.created",
          targetType: "user",
          targetId: user.id,
          details: { email: user.email, role: user.role, roleId: user.roleId, clientIds: user.clientIds, groupIds: user.groupIds },
        });
        set.status = 201;
        return user;
      },
      {
        permission: "users:manage",
        body: NewUser,
        response: { 201: User, ...errors(409, 422) },
        detail: {
          summary:
            "Create a user with a built-in role or a custom roleId (password policy: 422 PASSWORD_TOO_SHORT / PASSWORD_IS_EMAIL / PASSWORD_TOO_COMMON)",
          tags: ["users"],
        },
      },
    )
    .patch(
      "/:id",
      async ({ params, body, principal, server, request }) => {
        const target = await getUser(s.sql, principal.organizationId, params.id);
        if (!target) throw new NotFound("USER_NOT_FOUND", "no such user in your organization");
        const selfChange =
          body.role !== undefined ||
          body.roleId !== undefined ||
          body.clientIds !== undefined ||
          body.groupIds !== undefined ||
          body.disabled !== undefined;
        if (principal.kind === "user" && target.id === principal.id && selfChange) {
          throw new BadRequest("CANNOT_CHANGE_SELF", "you cannot change your own role or disable yourself");
        }
        if (!(await withinReach(s.sql, principal, target))) {
          throw new Forbidden("ROLE_TOO_HIGH", "you cannot change a user whose role is above yours, or grant one");
        }
        const given = await assignment(s.sql, principal, body);
        const clientIds = body.clientIds === undefined ? undefined : await clientScope(s.sql, principal, body.clientIds);
        const groupIds = await groupScope(s.sql, principal, body.groupIds);
        const user = await updateUser(s.sql, principal.organizationId, params.id, {
          name: body.name,
          disabled: body.disabled,
          clientIds,
          groupIds,
          ...given,
        });
        if (!user) throw new NotFound("USER_NOT_FOUND", "no such user in your organization");
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "user.updated",
          targetType: "user",
          targetId: params.id,
          details: {
            email: user.email,
            changes: fieldChanges(target, user, ["role", "roleId", "clientIds", "groupIds", "name", "disabledAt"]),
          },
          ip: server?.requestIP(request)?.address ?? null,
        });
        return user;
      },
      {
        permission: "users:manage",
        params: IdParam,
        body: Change,
        response: { 200: User, ...errors(400, 404, 422) },
        detail: {
          summary: "Change a user's role (built-in or custom roleId), reach (clientIds, groupIds) or name, or disable them",
          tags: ["users"],
        },
      },
    )
    .delete(
      "/:id/sessions",
      async ({ params, principal }) => {
        await manageable(principal, params.id);
        await endUserSessions(s.sql, params.id);
        await writeAudit(s.sql, { ...actorOf(principal), action: "user.sessions_ended", targetType: "user", targetId: params.id });
        return { ok: true };
      },
      {
        permission: "users:manage",
        params: IdParam,
        response: { 200: Ok, ...errors(403, 404, 422) },
        detail: { summary: "Sign a user out everywhere (every session ends)", tags: ["users"] },
      },
    )
    .delete(
      "/:id/totp",
      async ({ params, principal }) => {
        await manageable(principal, params.id);
        const had = await clearTotp(s.sql, params.id);
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "user.totp_reset",
          targetType: "user",
          targetId: params.id,
          details: { had },
        });
        return { ok: true };
      },
      {
        permission: "users:manage",
        params: IdParam,
        response: { 200: Ok, ...errors(403, 404, 422) },
        detail: {
          summary: "Reset a user's two-factor sign-in (a lost phone); where the organization requires it they enroll again at next sign-in",
          tags: ["users"],
        },
      },
    );
}
