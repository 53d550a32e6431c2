import { PERMISSIONS, can, isPermission } from "../auth/permissions.ts";
import type { Principal } from "../auth/roles.ts";
import { Forbidden, ValidationFailed } from "../errors.ts";

/**
 * The permission set a body names, deduplicated in the list's order: 422 naming the first unknown
 * name; 403 ROLE_TOO_HIGH when it grants something the caller does not hold (no way up through a role).
 */
export function permissionsFor(principal: Principal, names: readonly string[]): string[] {
  const unknown = names.find((n) => !isPermission(n));
  if (unknown !== undefined) throw new ValidationFailed(`unknown permission "${unknown}"`, { in: "body", permission: unknown });
  const beyond = names.find((n) => isPermission(n) && !can(principal, n));
  if (beyond) throw new Forbidden("ROLE_TOO_HIGH", `you cannot grant ${beyond}, which you do not hold`);
  return PERMISSIONS.filter((p) => names.includes(p));
}
