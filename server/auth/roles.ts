export type Role = "owner" | "admin" | "technician" | "readonly";
export const ROLES: readonly Role[] = ["readonly", "technician", "admin", "owner"];

/** Who is calling: a signed-in user or a program with an API key, always inside one organization. */
export interface Principal {
  kind: "user" | "api_key";
  /** The user's id, or the API key's id. */
  id: string;
  organizationId: string;
  role: Role;
  email: string | null;
}

/** True when `role` grants at least what `needed` grants. */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** The actor fields of an audit entry for this principal. */
export function actorOf(p: Principal): {
  actorType: "user" | "api_key";
  actorId: string;
  organizationId: string;
} {
  return { actorType: p.kind, actorId: p.id, organizationId: p.organizationId };
}
