import type { Role } from "./types.ts";

/** Roles from least to most powerful; each grants everything the ones before it grant. */
export const ROLES: readonly Role[] = ["readonly", "technician", "admin", "owner"];

export const ROLE_LABEL: Record<Role, string> = { readonly: "Viewer", technician: "Technician", admin: "Admin", owner: "Owner" };

/** True when `role` grants at least what `needed` grants (the server's rule). */
export const roleAtLeast = (role: Role | undefined, needed: Role): boolean => !!role && ROLES.indexOf(role) >= ROLES.indexOf(needed);

/** The roles someone with `role` may grant: their own and every one below it. */
export const grantableRoles = (role: Role | undefined): Role[] => ROLES.filter((r) => roleAtLeast(role, r));
