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
  "device:files:elevate",
  "patch:approve",
  "alert:manage",
  "alert:configure",
  "maintenance:manage",
  "schedule:manage",
  "script:manage",
  "enrollment:manage",
  "notification:manage",
  "automation:manage",
  "policy:manage",
  "clients:manage",
  "users:manage",
  "audit:view",
  "settings:manage",
  "ops:view",
  "tenancy:manage",
] as const;

export type Permission = (typeof PERMISSIONS)[number];

/** What each permission lets a user do, for the role editor and the API documentation. */
export const PERMISSION_HELP: Record<Permission, string> = {
  "device:view": "See devices, alerts, scripts, schedules, rules and workflows",
  "device:manage": "Power actions, tags, moving a device between sites",
  "device:delete": "Delete or disconnect a device",
  "device:terminal": "Open a remote shell and read terminal recordings",
  "device:script": "Run scripts on a device",
  "device:files": "Browse and transfer files",
  "device:files:elevate": "Elevate a file session to root/SYSTEM (with a reason, audited)",
  "patch:approve": "Approve patches",
  "alert:manage": "Acknowledge and resolve alerts, add notes",
  "alert:configure": "Alert rules and notification channels",
  "maintenance:manage": "Open and close maintenance windows",
  "schedule:manage": "Create, pause and delete scheduled script runs",
  "script:manage": "Add, edit and delete scripts of the library",
  "enrollment:manage": "Create and revoke enrollment tokens",
  "notification:manage": "See notification channels, send a test, retry failed deliveries",
  "automation:manage": "Create and delete workflows",
  "policy:manage": "Create policies, attach them to the organization, groups, clients, sites and devices, block inheritance",
  "clients:manage": "Create, rename and delete clients and sites",
  "users:manage": "Users, roles and API keys",
  "audit:view": "Read and export the audit log",
  "settings:manage": "Organization settings such as the two-factor requirement",
  "ops:view": "Server metrics",
  "tenancy:manage": "Organizations of the install (with the platform administrator flag)",
};

/**
 * The permissions that act on a device or its alerts, which a user limited to chosen clients keeps;
 * every other one (rules, workflows, schedules, maintenance windows, users, audit, settings…) spans the
 * whole organization, so a client-scoped user never holds it, whatever their role grants.
 */
export const CLIENT_LEVEL: readonly Permission[] = [
  "device:view",
  "device:manage",
  "device:delete",
  "device:terminal",
  "device:script",
  "device:files",
  "device:files:elevate",
  "patch:approve",
  "alert:manage",
];

/** True when the name is a permission of the list. */
export function isPermission(name: string): name is Permission {
  return (PERMISSIONS as readonly string[]).includes(name);
}

/**
 * Which devices a principal reaches inside its organization: the devices of these clients plus the
 * current members of these smart groups (membership follows facts, tags and telemetry, so the reach
 * does too); null on both for the whole organization. A user or an API key carries one.
 */
export interface Reach {
  clientIds: readonly string[] | null;
  groupIds: readonly string[] | null;
}

/** Just the reach of a principal (for cache keys and filters that must not carry the rest of it). */
export function reachOf(p: Reach): Reach {
  return { clientIds: p.clientIds, groupIds: p.groupIds };
}

/** True when the principal is limited to chosen clients or groups (it then holds client-level permissions only). */
export function isScoped(reach: Reach): boolean {
  return reach.clientIds !== null || reach.groupIds !== null;
}

/** The reach as a cache key: `*` for the whole organization, else the chosen clients and groups. */
export function reachKey(reach: Reach): string {
  return isScoped(reach) ? `${reach.clientIds?.join(",")}/${reach.groupIds?.join(",")}` : "*";
}

/**
 * The one scope check for a whole client: true when the principal reaches every device of this client
 * (a user assigned to chosen clients reaches only theirs, one assigned to groups alone no whole client;
 * everyone else the whole organization, already scoped by query). Single devices: `deviceInReach`.
 */
export function reaches(reach: Reach, clientId: string): boolean {
  return !isScoped(reach) || (reach.clientIds?.includes(clientId) ?? false);
}

/**
 * The one permission check: every route (through the auth macro), socket and command path asks
 * this, with the permission set resolved once per request into the principal.
 */
export function can(principal: { permissions: readonly Permission[] }, permission: Permission): boolean {
  return principal.permissions.includes(permission);
}
