import { type } from "arktype";
import { Elysia } from "elysia";
import { fieldChanges } from "../audit/changes.ts";
import { writeAudit } from "../audit/store.ts";
import { CLIENT_LEVEL, PERMISSION_HELP, PERMISSIONS } from "../auth/permissions.ts";
import { authPlugin } from "../auth/plugin.ts";
import { actorOf } from "../auth/roles.ts";
import type { Services } from "../context.ts";
import { Conflict, NotFound } from "../errors.ts";
import { IdParam, Ok, Timestamp, errors, listOf } from "../lib/schemas.ts";
import { permissionsFor } from "./grant.ts";
import { deleteRole, getRole, insertRole, listRoles, updateRole } from "./store.ts";

const Name = type("0 < string <= 100");
const Names = type("string <= 100")
  .array()
  .atMostLength(PERMISSIONS.length * 2);
const NewRole = type({ name: Name, permissions: Names });
const RoleChange = type({ "name?": Name, "permissions?": Names });
const CustomRole = type({
  id: "string",
  name: "string",
  permissions: "string[]",
  users: "number",
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

/** Custom roles of the organization (named permission sets) and the permission list they draw from. */
export function roleRoutes(s: Pick<Services, "sql">) {
  return new Elysia({ prefix: "/api/v1" })
    .use(authPlugin(s.sql))
    .get(
      "/permissions",
      () => ({
        items: PERMISSIONS.map((name) => ({ name, description: PERMISSION_HELP[name], clientLevel: CLIENT_LEVEL.includes(name) })),
      }),
      {
        permission: "signed-in",
        /** clientLevel: kept by a user or key limited to chosen clients. */
        response: { 200: listOf(type({ name: "string", description: "string", clientLevel: "boolean" })) },
        detail: { summary: "Every named permission a role can grant", tags: ["users"] },
      },
    )
    .get("/roles", async ({ principal }) => ({ items: await listRoles(s.sql, principal.organizationId) }), {
      permission: "users:manage",
      response: { 200: listOf(CustomRole) },
      detail: { summary: "Custom roles of the organization", tags: ["users"] },
    })
    .post(
      "/roles",
      async ({ body, principal, set }) => {
        const permissions = permissionsFor(principal, body.permissions);
        const role = await insertRole(s.sql, principal.organizationId, { name: body.name, permissions });
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "role.created",
          targetType: "role",
          targetId: role.id,
          details: { name: role.name, permissions },
        });
        set.status = 201;
        return role;
      },
      {
        permission: "users:manage",
        body: NewRole,
        response: { 201: CustomRole, ...errors(409, 422) },
        detail: { summary: "Create a custom role from named permissions (422 naming an unknown one)", tags: ["users"] },
      },
    )
    .put(
      "/roles/:id",
      async ({ params, body, principal }) => {
        const before = await getRole(s.sql, principal.organizationId, params.id);
        if (!before) throw new NotFound("ROLE_NOT_FOUND", "no such role in your organization");
        const permissions = body.permissions && permissionsFor(principal, body.permissions);
        const role = await updateRole(s.sql, principal.organizationId, params.id, { name: body.name, permissions });
        if (!role) throw new NotFound("ROLE_NOT_FOUND", "no such role in your organization");
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "role.updated",
          targetType: "role",
          targetId: role.id,
          details: { name: role.name, changes: fieldChanges(before, role, ["name", "permissions"]) },
        });
        return role;
      },
      {
        permission: "users:manage",
        params: IdParam,
        body: RoleChange,
        response: { 200: CustomRole, ...errors(404, 409, 422) },
        detail: { summary: "Rename a custom role or replace its permissions (its users have the new set at once)", tags: ["users"] },
      },
    )
    .delete(
      "/roles/:id",
      async ({ params, principal }) => {
        const role = await getRole(s.sql, principal.organizationId, params.id);
        const outcome = role ? await deleteRole(s.sql, principal.organizationId, params.id) : "missing";
        if (outcome === "missing") throw new NotFound("ROLE_NOT_FOUND", "no such role in your organization");
        if (outcome === "in_use") throw new Conflict("ROLE_IN_USE", "users or API keys still hold this role; give them another first");
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "role.deleted",
          targetType: "role",
          targetId: params.id,
          details: { name: role?.name },
        });
        return { ok: true };
      },
      {
        permission: "users:manage",
        params: IdParam,
        response: { 200: Ok, ...errors(404, 409, 422) },
        detail: { summary: "Delete a custom role nobody holds (409 ROLE_IN_USE otherwise)", tags: ["users"] },
      },
    );
}
