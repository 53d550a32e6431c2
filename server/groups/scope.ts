import { isScoped } from "../auth/permissions.ts";
import type { Principal } from "../auth/roles.ts";
import type { Services } from "../context.ts";
import { Forbidden, NotFound } from "../errors.ts";
import { groupsOfOrganization } from "./store.ts";

/**
 * The smart groups a body limits a user or an API key to (null: none; undefined: not given): 404
 * GROUP_NOT_FOUND for a group not of the organization; a caller limited to clients or groups cannot
 * grant groups (403 CLIENT_SCOPED: a group may hold devices beyond their own reach).
 */
export async function groupScope(
  sql: Services["sql"],
  principal: Principal,
  groupIds: readonly string[] | null | undefined,
): Promise<string[] | null | undefined> {
  if (groupIds === undefined || groupIds === null) return groupIds;
  if (isScoped(principal))
    throw new Forbidden("CLIENT_SCOPED", "you reach chosen clients or groups only, so you cannot grant smart groups");
  const ids = [...new Set(groupIds)];
  const known = new Set(await groupsOfOrganization(sql, principal.organizationId, ids));
  const missing = ids.find((id) => !known.has(id));
  if (missing) throw new NotFound("GROUP_NOT_FOUND", `no smart group ${missing} in your organization`);
  return ids;
}
