/**
 * Every named permission a route, socket or command path checks. A built-in role is a fixed set of
 * these; a custom role (server/roles) is any subset. Add a name here when a capability lands.
 */
export const PERMISSIONS = [
  "device:view",
  "device:manage",
  "device:delete",
  "device:terminal",
  "device:script",
  "device:files",
  "patch:approve",
  "alert:manage",
  "alert:configure",
  "automation:manage",
  "clients:manage",
  "users:manage",
  "audit:view",
  "settings:manage",
  "ops:view",
  "tenancy:manage",
] as const;

export type Permission = (typeof PERMISSIONS)[number];

/** True when the name is a permission of the list. */
export function isPermission(name: string): name is Permission {
  return (PERMISSIONS as readonly string[]).includes(name);
}

/**
 * The one permission check: every route (through the auth macro), socket and command path asks
 * this, with the permission set resolved once per request into the principal.
 */
export function can(principal: { permissions: readonly Permission[] }, permission: Permission): boolean {
  return principal.permissions.includes(permission);
}
