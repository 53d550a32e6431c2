import { type } from "arktype";
import { Elysia } from "elysia";
import { authPlugin } from "../auth/plugin.ts";
import { reachKey } from "../auth/permissions.ts";
import type { Principal } from "../auth/roles.ts";
import type { Services } from "../context.ts";
import { ListCounts } from "../devices/list-counts.ts";
import { listOf } from "../lib/schemas.ts";
import { listSites, listTags, siteDeviceCounts } from "./store.ts";

/** Kept from this many devices counted: below it the counts are cheap and always fresh. */
const KEEP_FROM = 1_000;

/** The organization and the caller's scope, as a key of what they see. */
const seenBy = (p: Principal) => `${p.organizationId} ${reachKey(p)}`;

/**
 * The organization's sites (with clients) and the tags in use, for filters and pickers. Both count
 * over every device, and every dashboard navigation asks for both: a big fleet's counts are kept up
 * to 10 s between device changes (`ListCounts`); names are read fresh each time.
 */
export function siteRoutes(s: Pick<Services, "sql" | "bus">) {
  const kept = new ListCounts(s.bus);
  const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
  return new Elysia({ prefix: "/api/v1" })
    .use(authPlugin(s.sql))
    .get(
      "/sites",
      async ({ principal }) => {
        const counts = await kept.get(
          `sites ${seenBy(principal)}`,
          () => siteDeviceCounts(s.sql, principal.organizationId, principal),
          (c) => total(c) >= KEEP_FROM,
        );
        return { items: await listSites(s.sql, principal.organizationId, principal, counts) };
      },
      {
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
      },
    )
    .get(
      "/tags",
      async ({ principal }) => ({
        items: await kept.get(
          `tags ${seenBy(principal)}`,
          () => listTags(s.sql, principal.organizationId, principal),
          (tags) => tags.reduce((n, t) => n + t.devices, 0) >= KEEP_FROM,
        ),
      }),
      {
        permission: "device:view",
        response: { 200: listOf(type({ tag: "string", devices: "number" })) },
        detail: { summary: "Device tags in use, most used first", tags: ["fleet"] },
      },
    );
}
