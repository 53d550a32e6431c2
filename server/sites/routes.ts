import { type } from "arktype";
import { Elysia } from "elysia";
import { authPlugin } from "../auth/plugin.ts";
import type { Services } from "../context.ts";
import { listOf } from "../lib/schemas.ts";
import { listSites, listTags } from "./store.ts";

/** The organization's sites (with clients) and the tags in use, for filters and pickers. */
export function siteRoutes(s: Pick<Services, "sql">) {
  return new Elysia({ prefix: "/api/v1" })
    .use(authPlugin(s.sql))
    .get("/sites", async ({ principal }) => ({ items: await listSites(s.sql, principal.organizationId, principal) }), {
      permission: "device:view",
      response: {
        200: listOf(
          type({
            id: "string",
            name: "string",
            clientId: "string",
            clientName: "string",
            deviceCount: "number",
            filesRateLimitBps: "number | null",
          }),
        ),
      },
      detail: { summary: "Sites with their client and device count", tags: ["fleet"] },
    })
    .get("/tags", async ({ principal }) => ({ items: await listTags(s.sql, principal.organizationId, principal) }), {
      permission: "device:view",
      response: { 200: listOf(type({ tag: "string", devices: "number" })) },
      detail: { summary: "Device tags in use, most used first", tags: ["fleet"] },
    });
}
