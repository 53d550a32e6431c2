import type { Sql } from "postgres";

export interface SiteRow {
  id: string;
  name: string;
  clientId: string;
  clientName: string;
  deviceCount: number;
}

/** Sites of one organization with their client and device count, by client then site name. */
export async function listSites(sql: Sql, organizationId: string): Promise<SiteRow[]> {
  return sql<SiteRow[]>`
    select s.id, s.name, c.id as "clientId", c.name as "clientName",
           (select count(*)::int from devices d where d.site_id = s.id) as "deviceCount"
    from sites s join clients c on c.id = s.client_id
    where s.organization_id = ${organizationId}
    order by c.name, s.name
    limit 5000`;
}

/** Distinct device tags in use in one organization, most used first. */
export async function listTags(sql: Sql, organizationId: string): Promise<{ tag: string; devices: number }[]> {
  return sql<{ tag: string; devices: number }[]>`
    select t.tag, count(*)::int as devices
    from devices d, unnest(d.tags) as t(tag)
    where d.organization_id = ${organizationId}
    group by t.tag order by devices desc, t.tag
    limit 1000`;
}

/** Creates an organization with one client and one site in it (where devices enroll); returns its id. */
export async function createOrganization(sql: Sql, names: { organization: string; client: string; site: string }): Promise<string> {
  const [org] = await sql<{ id: string }[]>`insert into organizations (name) values (${names.organization}) returning id`;
  if (!org) throw new Error("could not create the organization");
  const [client] = await sql<{ id: string }[]>`
    insert into clients (organization_id, name) values (${org.id}, ${names.client}) returning id`;
  await sql`insert into sites (organization_id, client_id, name) values (${org.id}, ${client?.id ?? null}, ${names.site})`;
  return org.id;
}

/** The oldest site of the install, with its organization; undefined before the first. */
export async function firstSite(sql: Sql): Promise<{ id: string; organizationId: string } | undefined> {
  const [site] = await sql<{ id: string; organizationId: string }[]>`
    select id, organization_id as "organizationId" from sites order by created_at limit 1`;
  return site;
}
