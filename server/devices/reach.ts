import type { Sql } from "postgres";
import { isScoped, reaches } from "../auth/permissions.ts";
import type { Principal } from "../auth/roles.ts";
import { inGroups } from "./reach.store.ts";
import { deviceOrganization } from "./store.ts";

/**
 * The device when the principal reaches it: in their organization and, for a user or key limited to
 * chosen clients or smart groups, of one of those clients or a current member of one of those groups.
 * Undefined otherwise, which every caller answers as 404 `DEVICE_NOT_FOUND` (another client's device
 * is indistinguishable from a missing one).
 */
export async function deviceInReach(
  sql: Sql,
  principal: Pick<Principal, "organizationId" | "clientIds" | "groupIds">,
  id: string,
): Promise<{ organizationId: string; clientId: string; hostname: string } | undefined> {
  const device = await deviceOrganization(sql, id);
  if (!device || device.organizationId !== principal.organizationId) return undefined;
  if (!isScoped(principal) || reaches(principal, device.clientId)) return device;
  return principal.groupIds && (await inGroups(sql, id, principal.groupIds)) ? device : undefined;
}
