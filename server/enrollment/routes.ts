import { type } from "arktype";
import { Elysia } from "elysia";
import { writeAudit } from "../audit/store.ts";
import { authPlugin } from "../auth/plugin.ts";
import { actorOf } from "../auth/roles.ts";
import type { Services } from "../context.ts";
import { BadRequest, NotFound } from "../errors.ts";
import { newSecret, sha256 } from "../lib/crypto.ts";
import { IdParam, Ok, Timestamp, errors, listOf } from "../lib/schemas.ts";
import { installCommands } from "./install-scripts.ts";
import { defaultSite, insertToken, listTokens, revokeToken, siteInOrganization } from "./store.ts";

const NewToken = type({
  "siteId?": "string.uuid",
  "expiresInMinutes?": "1 <= number.integer <= 525600",
  "maxUses?": "1 <= number.integer <= 100000",
  "tags?": type(/^[A-Za-z0-9_.:-]{1,64}(=[^\s]{0,63})?$/)
    .array()
    .atMostLength(32),
});

const Token = type({
  id: "string",
  prefix: "string",
  siteId: "string",
  tags: "string[]",
  expiresAt: Timestamp,
  maxUses: "number | null",
  uses: "number",
  createdAt: Timestamp,
  revokedAt: Timestamp.or("null"),
});

/** Enrollment tokens: create (with one-line installers), list, revoke. */
export function enrollmentRoutes(s: Pick<Services, "config" | "sql">) {
  return new Elysia({ prefix: "/api/v1/enrollment-tokens" })
    .use(authPlugin(s.sql))
    .post(
      "/",
      async ({ body, principal, set }) => {
        const siteId = body.siteId ?? (await defaultSite(s.sql, principal.organizationId));
        if (!siteId || !(await siteInOrganization(s.sql, principal.organizationId, siteId)))
          throw new BadRequest("SITE_NOT_FOUND", "no such site in your organization");
        const token = newSecret("spe_", 24);
        const row = await insertToken(s.sql, {
          organizationId: principal.organizationId,
          siteId,
          tokenHash: sha256(token),
          prefix: token.slice(0, 10),
          tags: body.tags ?? [],
          expiresAt: new Date(Date.now() + (body.expiresInMinutes ?? 24 * 60) * 60_000),
          maxUses: body.maxUses ?? null,
          createdBy: principal.kind === "user" ? principal.id : null,
        });
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "enrollment_token.created",
          targetType: "enrollment_token",
          targetId: row.id,
          details: { siteId, maxUses: row.maxUses, tags: row.tags },
        });
        set.status = 201;
        return {
          ...row,
          token,
          install: installCommands(s.config.publicUrl, token),
        };
      },
      {
        permission: "enrollment:manage",
        body: NewToken,
        response: {
          201: Token.and({ token: "string", install: { linux: "string", macos: "string", windows: "string" } }),
          ...errors(400, 422),
        },
        detail: {
          summary: "Create an enrollment token with one-line installers",
          tags: ["fleet"],
        },
      },
    )
    .get(
      "/",
      async ({ principal }) => ({
        items: await listTokens(s.sql, principal.organizationId),
      }),
      {
        permission: "enrollment:manage",
        response: { 200: listOf(Token) },
        detail: {
          summary: "Enrollment tokens (never the tokens themselves)",
          tags: ["fleet"],
        },
      },
    )
    .delete(
      "/:id",
      async ({ params, principal }) => {
        if (!(await revokeToken(s.sql, principal.organizationId, params.id)))
          throw new NotFound("ENROLLMENT_TOKEN_NOT_FOUND", "no such live token");
        await writeAudit(s.sql, {
          ...actorOf(principal),
          action: "enrollment_token.revoked",
          targetType: "enrollment_token",
          targetId: params.id,
        });
        return { ok: true };
      },
      {
        permission: "enrollment:manage",
        params: IdParam,
        response: { 200: Ok, ...errors(404, 422) },
        detail: { summary: "Revoke an enrollment token", tags: ["fleet"] },
      },
    );
}
