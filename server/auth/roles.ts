import { PERMISSIONS, type Permission } from "./permissions.ts";

export type Role = "owner" | "admin" | "technician" | "readonly";

/** Who is calling: a signed-in user or a program with an API key, always inside one organization. */
export interface Principal {
  kind: "user" | "api_key";
  /** The user's id, or the API key's id. */
  id: string;
  organizationId: string;
  /** The built-in role (a user with a custom role keeps `readonly` here, below every other). */
  role: Role;
  /** The user's custom role of the organization, when one is assigned. */
  roleId: string | null;
  /** What the principal may do: the custom role's set, else the built-in role's; resolved once per request. */
  permissions: readonly Permission[];
  /** The clients whose devices the principal reaches (with `groupIds`, see `Reach`); null on both for the whole organization. */
  clientIds: readonly string[] | null;
  /** The smart groups whose current members the principal reaches besides its clients' devices. */
  groupIds: readonly string[] | null;
  email: string | null;
  /** The user's e-mail or the API key's name, for attribution. */
  name: string;
  /** Runs the install (creates organizations); never true for an API key. */
  platformAdmin: boolean;
  /** The address the request came from (set per request by the auth plugin; absent outside a request). */
  ip?: string | null;
}

const TECHNICIAN: readonly Permission[] = [
  "device:view",
  "device:manage",
  "device:terminal",
  "device:script",
  "device:files",
  "patch:approve",
  "alert:manage",
  "maintenance:manage",
  "schedule:manage",
  "script:manage",
  "enrollment:manage",
  "notification:manage",
];
const ADMIN: readonly Permission[] = PERMISSIONS.filter((p) => p !== "tenancy:manage");

/** The fixed permission set of each built-in role (`readonly` is the viewer). */
export const BUILT_IN: Record<Role, readonly Permission[]> = {
  readonly: ["device:view"],
  technician: TECHNICIAN,
  admin: ADMIN,
  owner: PERMISSIONS,
};

/** The actor fields of an audit entry for this principal. */
export function actorOf(p: Principal): {
  actorType: "user" | "api_key";
  actorId: string;
  actorName: string;
  organizationId: string;
  /** Where the request came from: every audit entry of a route records its source address. */
  ip: string | null;
} {
  return { actorType: p.kind, actorId: p.id, actorName: p.name, organizationId: p.organizationId, ip: p.ip ?? null };
}
