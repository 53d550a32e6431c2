import { type } from "arktype";
import { Elysia } from "elysia";
import { writeAudit } from "../audit/store.ts";
import { authPlugin } from "../auth/plugin.ts";
import { actorOf } from "../auth/roles.ts";
import { createTenant } from "../bootstrap.ts";
import type { Services } from "../context.ts";
import { Conflict, Forbidden, NotFound } from "../errors.ts";
import { IdParam, Ok, Timestamp, errors, listOf } from "../lib/schemas.ts";
import { checkPassword } from "../users/password-policy.ts";
import {
  deleteClient,
  deleteSite,
  getClient,
  inTransaction,
  insertClient,
  insertSite,
  listClients,
  listOrganizations,
  renameClient,
  updateSite,
} from "./store.ts";

const Name = type("0 < string <= 200");
const Client = type({
  id: "string",
  name: "string",
  createdAt: Timestamp,
  sites: type({ id: "string", name: "string", deviceCount: "number", filesRateLimitBps: "number | null" }).array(),
});
const Organization = type({
  id: "string",
  name: "string",
  slug: "string",
  createdAt: Timestamp,
  clients: "number",
  sites: "number",
  devices: "number",
  users: "number",
});
const NewOrganization = type({
  name: Name,
  /** Its sign-in address, /login?org=<slug> (derived from the name when absent). */
  "slug?": /^[a-z0-9][a-z0-9-]{0,62}$/,
  owner: { email: "string.email <= 320", "name?": "string <= 200", password: "0 < string <= 1024" },
});
const Created = type({ id: "string" });

const NOT_EMPTY = {
  not_empty: () => new Conflict("NOT_EMPTY", "move or remove its devices first: devices are never deleted by a change of the hierarchy"),
  last: () => new Conflict("LAST_SITE", "an organization keeps at least one site (devices enroll into it)"),
} as const;

/**
 * The hierarchy: organizations (isolated tenants, created by platform administrators) > clients >
 * sites > devices. Clients and sites are managed by the organization's admins; a client or site with
 * devices is never deleted (409 NOT_EMPTY), nor an organization's last site (409 LAST_SITE).
 */
export function hierarchyRoutes(s: Pick<Services, "sql" | "bus">) {
  return new Elysia({ prefix: "/api/v1" })
    .use(authPlugin(s.sql))
    .get(
      "/organizations",
      async ({ principal }) => {
        if (!principal.platformAdmin) throw new Forbidden("PLATFORM_ADMIN_ONLY", "only platform administrators see every organization");
        return { items: await listOrganizations(s.sql) };
      },
      {
        permission: "tenancy:manage",
        response: { 200: listOf(Organization) },
        detail: { summary: "Every organization of the install (platform administrators)", tags: ["tenancy"] },
      },
    )
    .post(
      "/organizations",
      async ({ body, principal, set }) => {
        if (!principal.platformAdmin) throw new Forbidden("PLATFORM_ADMIN_ONLY", "only platform administrators create organizations");
        checkPassword(body.owner.password, body.owner.email);
        const passwordHash = await Bun.password.hash(body.owner.password, { algorithm: "argon2id" });
        const created = await inTransaction(s.sql, async (tx) => {
          const tenant = await createTenant(tx, {
            organization: body.name,
            ...(body.slug ? { slug: body.slug } : {}),
            owner: { email: body.owner.email, name: body.owner.name ?? body.owner.email, passwordHash },
          });
          await writeAudit(tx, {
            ...actorOf(principal),
            action: "organization.created",
            targetType: "organization",
            targetId: tenant.organizationId,
            details: { name: body.name, owner: body.owner.email },
          });
          return tenant;
        });
        set.status = 201;
        return { id: created.organizationId };
      },
      {
        permission: "tenancy:manage",
        body: NewOrganization,
        response: { 201: Created, ...errors(409, 422) },
        detail: {
          summary: "Create an organization with its owner, a default client and site (platform administrators)",
          tags: ["tenancy"],
        },
      },
    )
    .get("/clients", async ({ principal }) => ({ items: await listClients(s.sql, principal.organizationId, principal) }), {
      permission: "device:view",
      response: { 200: listOf(Client) },
      detail: { summary: "Clients of the organization with their sites", tags: ["tenancy"] },
    })
    .post(
      "/clients",
      async ({ body, principal, set }) => {
        const id = await insertClient(s.sql, principal.organizationId, body.name);
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "client.created",
          targetType: "client",
          targetId: id,
          details: { name: body.name },
        });
        set.status = 201;
        return { id };
      },
      {
        permission: "clients:manage",
        body: type({ name: Name }),
        response: { 201: Created, ...errors(409, 422) },
        detail: { summary: "Create a client (then add its sites)", tags: ["tenancy"] },
      },
    )
    .get(
      "/clients/:id",
      async ({ params, principal }) => {
        const client = await getClient(s.sql, principal.organizationId, params.id);
        if (!client) throw new NotFound("CLIENT_NOT_FOUND", "no such client in your organization");
        return client;
      },
      {
        permission: "device:view",
        params: IdParam,
        response: { 200: Client, ...errors(404, 422) },
        detail: { summary: "A client with its sites", tags: ["tenancy"] },
      },
    )
    .put(
      "/clients/:id",
      async ({ params, body, principal }) => {
        const before = await getClient(s.sql, principal.organizationId, params.id);
        if (!before || !(await renameClient(s.sql, principal.organizationId, params.id, body.name)))
          throw new NotFound("CLIENT_NOT_FOUND", "no such client in your organization");
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "client.updated",
          targetType: "client",
          targetId: params.id,
          details: { name: { before: before.name, after: body.name } },
        });
        return { ok: true };
      },
      {
        permission: "clients:manage",
        params: IdParam,
        body: type({ name: Name }),
        response: { 200: Ok, ...errors(404, 409, 422) },
        detail: { summary: "Rename a client", tags: ["tenancy"] },
      },
    )
    .delete(
      "/clients/:id",
      async ({ params, principal }) => {
        const outcome = await deleteClient(s.sql, principal.organizationId, params.id);
        if (outcome === "not_found") throw new NotFound("CLIENT_NOT_FOUND", "no such client in your organization");
        if (outcome !== "deleted") throw NOT_EMPTY[outcome]();
        await writeAudit(s.sql, { ...actorOf(principal), action: "client.deleted", targetType: "client", targetId: params.id });
        return { ok: true };
      },
      {
        permission: "clients:manage",
        params: IdParam,
        response: { 200: Ok, ...errors(404, 409, 422) },
        detail: { summary: "Delete a client and its sites (only without devices)", tags: ["tenancy"] },
      },
    )
    .post(
      "/sites",
      async ({ body, principal, set }) => {
        const id = await insertSite(s.sql, principal.organizationId, body.clientId, body.name);
        if (!id) throw new NotFound("CLIENT_NOT_FOUND", "no such client in your organization");
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "site.created",
          targetType: "site",
          targetId: id,
          details: { name: body.name, clientId: body.clientId },
        });
        set.status = 201;
        return { id };
      },
      {
        permission: "clients:manage",
        body: type({ clientId: "string.uuid", name: Name }),
        response: { 201: Created, ...errors(404, 409, 422) },
        detail: { summary: "Create a site under a client", tags: ["tenancy"] },
      },
    )
    .put(
      "/sites/:id",
      async ({ params, body, principal }) => {
        if (body.clientId && !(await getClient(s.sql, principal.organizationId, body.clientId)))
          throw new NotFound("CLIENT_NOT_FOUND", "no such client in your organization");
        const before = await updateSite(s.sql, principal.organizationId, params.id, body);
        if (!before) throw new NotFound("SITE_NOT_FOUND", "no such site in your organization");
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "site.updated",
          targetType: "site",
          targetId: params.id,
          details: {
            ...body,
            ...(body.filesRateLimitBps !== undefined
              ? { filesRateLimitBps: { before: before.filesRateLimitBps, after: body.filesRateLimitBps } }
              : {}),
          },
        });
        // running transfers of its devices take the new cap at once, on every node
        if (body.filesRateLimitBps !== undefined)
          s.bus.publish("site.changed", { organizationId: principal.organizationId, siteId: params.id });
        return { ok: true };
      },
      {
        permission: "clients:manage",
        params: IdParam,
        body: type({
          "name?": Name,
          "clientId?": "string.uuid",
          "filesRateLimitBps?": type("1024 <= number.integer <= 100000000000 | null").configure({
            description:
              "default bandwidth cap of each of the site's devices' file transfers, bytes/s (null: the server's SENTPULSE_FILES_DEVICE_RATE_BPS); a transfer's own `rate` overrides it",
          }),
        }),
        response: { 200: Ok, ...errors(404, 409, 422) },
        detail: {
          summary: "Rename a site, move it under another client, or set its default bandwidth cap of file transfers",
          tags: ["tenancy"],
        },
      },
    )
    .delete(
      "/sites/:id",
      async ({ params, principal }) => {
        const outcome = await deleteSite(s.sql, principal.organizationId, params.id);
        if (outcome === "not_found") throw new NotFound("SITE_NOT_FOUND", "no such site in your organization");
        if (outcome !== "deleted") throw NOT_EMPTY[outcome]();
        await writeAudit(s.sql, { ...actorOf(principal), action: "site.deleted", targetType: "site", targetId: params.id });
        return { ok: true };
      },
      {
        permission: "clients:manage",
        params: IdParam,
        response: { 200: Ok, ...errors(404, 409, 422) },
        detail: { summary: "Delete a site (only without devices; its enrollment tokens go with it)", tags: ["tenancy"] },
      },
    );
}
