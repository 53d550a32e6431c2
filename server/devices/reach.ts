import type { Sql } from "postgres";
import { reaches } from "../auth/permissions.ts";
import type { Principal } from "../auth/roles.ts";
import { deviceOrganization } from "./store.ts";

/**
 * The device when the principal reaches it: in their organization and, for a user limited to chosen
 * clients, in one of those. Undefined otherwise, which every caller answers as 404 `DEVICE_NOT_FOUND`
 * (another client's device is indistinguishable from a missing one).
 */
export async function deviceInReach(
  sql: Sql,
  principal: Pick<Principal, "organizationId" | "clientIds">,
  id: string,
): Promise<{ organizationId: string; clientId: string; hostname: string } | undefined> {
  const device = await deviceOrganization(sql, id);
  if (!device || device.organizationId !== principal.organizationId || !reaches(principal, device.clientId)) return undefined;
  return device;
}
