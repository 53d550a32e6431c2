import type { Sql } from "postgres";

/** An organization's OpenID Connect settings, as stored (the client secret sealed). */
export interface OidcRow {
  organizationId: string;
  issuer: string;
  clientId: string;
  clientSecretSealed: string;
  allowedDomains: string[];
  defaultRole: "admin" | "technician" | "readonly";
  autoCreate: boolean;
  buttonLabel: string;
  updatedAt: Date;
}

const columns = (sql: Sql) => sql`
  organization_id as "organizationId", issuer, client_id as "clientId", client_secret_sealed as "clientSecretSealed",
  allowed_domains as "allowedDomains", default_role as "defaultRole", auto_create as "autoCreate",
  button_label as "buttonLabel", updated_at as "updatedAt"`;

export async function getOidc(sql: Sql, organizationId: string): Promise<OidcRow | undefined> {
  const [row] = await sql<OidcRow[]>`select ${columns(sql)} from organization_oidc where organization_id = ${organizationId}`;
  return row;
}

/** Creates or replaces the organization's settings. */
export async function saveOidc(sql: Sql, o: Omit<OidcRow, "updatedAt">): Promise<OidcRow> {
  const [row] = await sql<OidcRow[]>`
    insert into organization_oidc (organization_id, issuer, client_id, client_secret_sealed, allowed_domains, default_role, auto_create, button_label)
    values (${o.organizationId}, ${o.issuer}, ${o.clientId}, ${o.clientSecretSealed}, ${o.allowedDomains}, ${o.defaultRole},
            ${o.autoCreate}, ${o.buttonLabel})
    on conflict (organization_id) do update set
      issuer = excluded.issuer, client_id = excluded.client_id, client_secret_sealed = excluded.client_secret_sealed,
      allowed_domains = excluded.allowed_domains, default_role = excluded.default_role, auto_create = excluded.auto_create,
      button_label = excluded.button_label, updated_at = now()
    returning ${columns(sql)}`;
  if (!row) throw new Error("upsert returned nothing");
  return row;
}

/** Turns OpenID Connect sign-in off for the organization; false when it was not on. */
export async function deleteOidc(sql: Sql, organizationId: string): Promise<boolean> {
  const rows = await sql`delete from organization_oidc where organization_id = ${organizationId} returning 1`;
  return rows.count > 0;
}

/** The sign-in buttons of the login page: every organization with OpenID Connect configured. */
/**
 * The single sign-on buttons a login page shows: the organization with this slug, or, without one,
 * the organization of an install that has only one (a multi-tenant install never lists its tenants).
 */
export async function listOidcProviders(sql: Sql, slug: string | null): Promise<{ organizationId: string; buttonLabel: string }[]> {
  return sql<{ organizationId: string; buttonLabel: string }[]>`
    select x.organization_id as "organizationId", x.button_label as "buttonLabel"
    from organization_oidc x join organizations o on o.id = x.organization_id
    where ${slug === null ? sql`(select count(*) from organizations) = 1` : sql`o.slug = ${slug}`}
    limit 1`;
}
