export type Role = "owner" | "admin" | "technician" | "readonly";
const ROLES: readonly Role[] = ["readonly", "technician", "admin", "owner"];

/** Who is calling: a signed-in user or a program with an API key, always inside one organization. */
export interface Principal {
  kind: "user" | "api_key";
  /** The user's id, or the API key's id. */
  id: string;
  organizationId: string;
  role: Role;
  email: string | null;
  /** The user's e-mail or the API key's name, for attribution. */
  name: string;
  /** Runs the install (creates organizations); never true for an API key. */
  platformAdmin: boolean;
}

/** Named permissions that actions check, so roles can be refined later without touching routes. */
export type Permission = "device:read" | "device:script" | "device:terminal" | "device:manage" | "org:admin";

const GRANTS: Record<Role, readonly Permission[]> = {
  readonly: ["device:read"],
  technician: ["device:read", "device:script", "device:terminal", "device:manage"],
  admin: ["device:read", "device:script", "device:terminal", "device:manage", "org:admin"],
  owner: ["device:read", "device:script", "device:terminal", "device:manage", "org:admin"],
};

/** True when the role grants the permission (power actions need `device:manage`, scripts `device:script`). */
export function can(role: Role, permission: Permission): boolean {
  return GRANTS[role].includes(permission);
}

/** True when `role` grants at least what `needed` grants. */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** The actor fields of an audit entry for this principal. */
export function actorOf(p: Principal): {
  actorType: "user" | "api_key";
  actorId: string;
  actorName: string;
  organizationId: string;
} {
  return { actorType: p.kind, actorId: p.id, actorName: p.name, organizationId: p.organizationId };
}
