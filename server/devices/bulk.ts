import { type } from "arktype";
import { Elysia } from "elysia";
import { writeAudit } from "../audit/store.ts";
import { authPlugin } from "../auth/plugin.ts";
import type { Principal } from "../auth/roles.ts";
import { actorOf } from "../auth/roles.ts";
import type { Services } from "../context.ts";
import { NotFound, ValidationFailed } from "../errors.ts";
import { getGroup, groupMemberIds } from "../groups/store.ts";
import { errors } from "../lib/schemas.ts";
import { Tag } from "./routes.ts";
import { devicesInOrganization } from "./store.ts";
import { retag } from "./tags.store.ts";

/** Most devices one bulk request acts on. */
const MAX_BULK = 10_000;

/** The devices of a bulk action: listed ids, or a smart group's members now. */
const BulkTarget = type({ deviceIds: `0 < string.uuid[] <= ${MAX_BULK}` }).or({ groupId: "string.uuid" });

/**
 * The devices a bulk target names that the caller reaches: 404 DEVICE_NOT_FOUND when a listed device
 * is not theirs (nothing is done), 404 GROUP_NOT_FOUND for a group not of the organization.
 */
export async function bulkDevices(sql: Services["sql"], principal: Principal, target: typeof BulkTarget.infer): Promise<string[]> {
  if ("groupId" in target) {
    if (!(await getGroup(sql, principal.organizationId, target.groupId)))
      throw new NotFound("GROUP_NOT_FOUND", "no such group in your organization");
    return groupMemberIds(sql, target.groupId, principal, MAX_BULK);
  }
  const ids = [...new Set(target.deviceIds)];
  const owned = new Set(await devicesInOrganization(sql, principal.organizationId, ids, principal));
  const missing = ids.filter((id) => !owned.has(id));
  if (missing.length > 0) throw new NotFound("DEVICE_NOT_FOUND", `${missing.length} of the devices are not in your organization`);
  return ids;
}

const BulkTags = type({
  target: BulkTarget,
  "add?": Tag.array().atMostLength(16),
  "remove?": Tag.array().atMostLength(16),
});

/** Actions on many devices at once: tags for now (commands take a group in POST /commands). */
export function bulkRoutes(s: Pick<Services, "bus" | "sql">) {
  return new Elysia({ prefix: "/api/v1/devices" }).use(authPlugin(s.sql)).post(
    "/bulk-tags",
    async ({ body, principal }) => {
      const add = [...new Set(body.add ?? [])];
      const remove = [...new Set(body.remove ?? [])];
      if (add.length + remove.length === 0) throw new ValidationFailed("give tags to add or remove", { in: "body" });
      const ids = await bulkDevices(s.sql, principal, body.target);
      const { changed, skipped } = ids.length
        ? await retag(s.sql, principal.organizationId, ids, add, remove)
        : { changed: [], skipped: [] };
      if (changed.length) s.bus.publish("device.changed", { deviceIds: changed });
      await writeAudit(s.sql, {
        ...actorOf(principal),
        action: "device.tags_changed",
        targetType: "groupId" in body.target ? "group" : "device",
        targetId: "groupId" in body.target ? body.target.groupId : ids.length === 1 ? (ids[0] ?? null) : null,
        details: { add, remove, devices: ids.length, changed: changed.length, skipped: skipped.length },
      });
      return { matched: ids.length, changed: changed.length, skipped: skipped.length };
    },
    {
      permission: "device:manage",
      body: BulkTags,
      response: { 200: type({ matched: "number", changed: "number", skipped: "number" }), ...errors(404, 422) },
      detail: {
        summary:
          "Add and remove tags on many devices (listed, or a smart group's members). `key=value` replaces the key's other value; devices that would pass 32 tags are skipped",
        tags: ["devices"],
      },
    },
  );
}
