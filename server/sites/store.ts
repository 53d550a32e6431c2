import type { Sql } from "postgres";
import { isScoped, type Reach } from "../auth/permissions.ts";
import { inReach } from "../devices/reach.store.ts";

export interface SiteRow {
  id: string;
  name: string;
  clientId: string;
  clientName: string;
  deviceCount: number;
  /** Default cap of each of its devices' file transfers, bytes/s (null: the server's). */
  filesRateLimitBps: number | null;
}

/**
 * For a caller limited to clients or groups: only the sites of their clients and those holding a
 * device they reach (another client's names and sizes stay unseen); nothing for everyone else.
 */
const sitesInReach = (sql: Sql, reach: Reach | null, site: string) =>
  reach && isScoped(reach)
    ? sql`and (${sql(`${site}.client_id`)} = any(${[...(reach.clientIds ?? [])]}::uuid[])
           or exists (select 1 from devices d where d.site_id = ${sql(`${site}.id`)} ${inReach(sql, reach, { id: "d.id", siteId: "d.site_id" })}))`
    : sql``;

/**
 * Devices per site the caller reaches, counted in one pass over the organization's devices (or one
 * client's) as the CTE `counted`. A count per site made a bitmap scan per site: a site's devices lie
 * all over the table, so 100 sites of 1,000 devices read 350,000 heap pages (1.7 s per request at
 * 100,000 devices, on every dashboard navigation).
 */
const counted = (sql: Sql, organizationId: string, reach: Reach | null, clientId?: string) => sql`
  counted as materialized (
    select d.site_id, count(*)::int as n from devices d
    where d.organization_id = ${organizationId} ${inReach(sql, reach, { id: "d.id", siteId: "d.site_id" })}
      ${clientId ? sql`and d.site_id in (select id from sites where client_id = ${clientId})` : sql``}
    group by d.site_id)`;

/** A site's devices from `counted`. */
const deviceCount = (sql: Sql, site: string) => sql`coalesce((select k.n from counted k where k.site_id = ${sql(`${site}.id`)}), 0)`;

/** Devices per site the caller reaches (sites without any are absent), in one pass over the organization's devices. */
export async function siteDeviceCounts(sql: Sql, organizationId: string, reach: Reach | null = null): Promise<Record<string, number>> {
  const rows = await sql<{ siteId: string; n: number }[]>`
    select d.site_id as "siteId", count(*)::int as n from devices d
    where d.organization_id = ${organizationId} ${inReach(sql, reach, { id: "d.id", siteId: "d.site_id" })}
    group by d.site_id`;
  return Object.fromEntries(rows.map((r) => [r.siteId, r.n]));
}

/**
 * Sites of one organization with their client, by client then site name (those the caller reaches,
 * when scoped), each with its count from `counts` (`siteDeviceCounts`, which the caller may keep).
 */
export async function listSites(sql: Sql, organizationId: string, reach: Reach | null, counts: Record<string, number>): Promise<SiteRow[]> {
  const rows = await sql<Omit<SiteRow, "deviceCount">[]>`
    select s.id, s.name, c.id as "clientId", c.name as "clientName", s.files_rate_limit_bps::float8 as "filesRateLimitBps"
    from sites s join clients c on c.id = s.client_id
    where s.organization_id = ${organizationId} ${sitesInReach(sql, reach, "s")}
    order by c.name, s.name
    limit 5000`;
  return rows.map((r) => ({ ...r, deviceCount: counts[r.id] ?? 0 }));
}

/** Distinct device tags in use in one organization (on the devices the caller reaches), most used first. */
export async function listTags(sql: Sql, organizationId: string, reach: Reach | null = null): Promise<{ tag: string; devices: number }[]> {
  return sql<{ tag: string; devices: number }[]>`
    select t.tag, count(*)::int as devices
    from devices d, unnest(d.tags) as t(tag)
    where d.organization_id = ${organizationId} ${inReach(sql, reach, { id: "d.id", siteId: "d.site_id" })}
    group by t.tag order by devices desc, t.tag
    limit 1000`;
}

/** Creates an organization with one client and one site in it (where devices enroll); returns its id. */
export async function createOrganization(
  sql: Sql,
  names: { organization: string; client: string; site: string; slug?: string | undefined },
): Promise<string> {
  // without a slug, the database derives one from the name (migration 00028)
  const [org] = await sql<{ id: string }[]>`
    insert into organizations (name, slug) values (${names.organization}, ${names.slug ?? null}) returning id`;
  if (!org) throw new Error("could not create the organization");
  const [client] = await sql<{ id: string }[]>`
    insert into clients (organization_id, name) values (${org.id}, ${names.client}) returning id`;
  await sql`insert into sites (organization_id, client_id, name) values (${org.id}, ${client?.id ?? null}, ${names.site})`;
  return org.id;
}

/** The organization's slug (its sign-in address is /login?org=<slug>). */
export async function organizationSlug(sql: Sql, organizationId: string): Promise<string | undefined> {
  const [row] = await sql<{ slug: string }[]>`select slug from organizations where id = ${organizationId}`;
  return row?.slug;
}

/** The oldest site of the install, with its organization; undefined before the first. */
export async function firstSite(sql: Sql): Promise<{ id: string; organizationId: string } | undefined> {
  const [site] = await sql<{ id: string; organizationId: string }[]>`
    select id, organization_id as "organizationId" from sites order by created_at limit 1`;
  return site;
}

export interface ClientRow {
  id: string;
  name: string;
  createdAt: Date;
  sites: { id: string; name: string; deviceCount: number; filesRateLimitBps: number | null }[];
}

/** A client's columns with its sites; the statement defines `counted`. */
const clientColumns = (sql: Sql, reach: Reach | null = null) => sql`
  c.id, c.name, c.created_at as "createdAt",
  coalesce((select json_agg(json_build_object('id', s.id, 'name', s.name, 'deviceCount', ${deviceCount(sql, "s")},
                                             'filesRateLimitBps', s.files_rate_limit_bps) order by s.name)
            from sites s where s.client_id = c.id ${sitesInReach(sql, reach, "s")}), '[]') as sites`;

/**
 * The organization's clients, each with its sites and their device counts, by name. A caller limited
 * to clients or groups (`reach`) sees only their clients and those holding a device they reach, with
 * only those sites and devices counted.
 */
export async function listClients(sql: Sql, organizationId: string, reach: Reach | null = null): Promise<ClientRow[]> {
  const scoped = reach && isScoped(reach);
  return sql<ClientRow[]>`
    with ${counted(sql, organizationId, reach)}
    select ${clientColumns(sql, reach)} from clients c where c.organization_id = ${organizationId}
    ${scoped ? sql`and (c.id = any(${[...(reach.clientIds ?? [])]}::uuid[]) or exists (select 1 from sites s where s.client_id = c.id ${sitesInReach(sql, reach, "s")}))` : sql``}
    order by c.name limit 5000`;
}

/** One client of the organization with its sites; undefined when it is not theirs. */
export async function getClient(sql: Sql, organizationId: string, id: string): Promise<ClientRow | undefined> {
  const [row] = await sql<ClientRow[]>`with ${counted(sql, organizationId, null, id)}
    select ${clientColumns(sql)} from clients c where c.id = ${id} and c.organization_id = ${organizationId}`;
  return row;
}

/** A new client (no sites yet); its id. A duplicate name is a unique violation (409). */
export async function insertClient(sql: Sql, organizationId: string, name: string): Promise<string> {
  const [row] = await sql<{ id: string }[]>`insert into clients (organization_id, name) values (${organizationId}, ${name}) returning id`;
  return row!.id;
}

/** Renames a client of the organization; false when it is not theirs. */
export async function renameClient(sql: Sql, organizationId: string, id: string, name: string): Promise<boolean> {
  const rows = await sql`update clients set name = ${name} where id = ${id} and organization_id = ${organizationId} returning id`;
  return rows.count > 0;
}

/**
 * Deletes a client of the organization with its sites, only when none of them has a device
 * (devices are never deleted by a hierarchy change). "not_found", "not_empty", or "deleted".
 */
export async function deleteClient(sql: Sql, organizationId: string, id: string): Promise<"not_found" | "not_empty" | "last" | "deleted"> {
  return sql.begin(async (t) => {
    const tx = t as unknown as Sql;
    const [row] = await tx<{ devices: number; others: number }[]>`
      select (select count(*)::int from devices d join sites s on s.id = d.site_id where s.client_id = c.id) as devices,
             (select count(*)::int from sites s where s.organization_id = c.organization_id and s.client_id <> c.id) as others
      from clients c where c.id = ${id} and c.organization_id = ${organizationId} for update`;
    if (!row) return "not_found";
    if (row.devices > 0) return "not_empty";
    if (row.others === 0) return "last";
    await tx`delete from sites where client_id = ${id}`;
    await tx`delete from clients where id = ${id}`;
    return "deleted";
  });
}

/** A new site under a client of the organization; its id, or undefined when the client is not theirs. */
export async function insertSite(sql: Sql, organizationId: string, clientId: string, name: string): Promise<string | undefined> {
  const [row] = await sql<{ id: string }[]>`
    insert into sites (organization_id, client_id, name)
    select ${organizationId}, c.id, ${name} from clients c where c.id = ${clientId} and c.organization_id = ${organizationId}
    returning id`;
  return row?.id;
}

/**
 * Renames a site, moves it under another client (checked to be the organization's by the caller) or
 * sets its default bandwidth cap of file transfers (`null` clears it); what it was before, or
 * undefined when the site is not theirs.
 */
export async function updateSite(
  sql: Sql,
  organizationId: string,
  id: string,
  change: { name?: string; clientId?: string; filesRateLimitBps?: number | null },
): Promise<{ name: string; clientId: string; filesRateLimitBps: number | null } | undefined> {
  const setRate = change.filesRateLimitBps !== undefined;
  const [before] = await sql<{ name: string; clientId: string; filesRateLimitBps: number | null }[]>`
    with old as (select id, name, client_id, files_rate_limit_bps from sites where id = ${id} and organization_id = ${organizationId} for update)
    update sites s set name = coalesce(${change.name ?? null}, s.name), client_id = coalesce(${change.clientId ?? null}::uuid, s.client_id),
      files_rate_limit_bps = case when ${setRate} then ${change.filesRateLimitBps ?? null}::bigint else s.files_rate_limit_bps end
    from old where s.id = old.id
    returning old.name, old.client_id as "clientId", old.files_rate_limit_bps::float8 as "filesRateLimitBps"`;
  return before;
}

/** Deletes a site without devices (its enrollment tokens go with it); "not_found", "not_empty", "last" (the organization's only site) or "deleted". */
export async function deleteSite(sql: Sql, organizationId: string, id: string): Promise<"not_found" | "not_empty" | "last" | "deleted"> {
  return sql.begin(async (t) => {
    const tx = t as unknown as Sql;
    const [row] = await tx<{ devices: number; others: number }[]>`
      select (select count(*)::int from devices d where d.site_id = s.id) as devices,
             (select count(*)::int from sites o where o.organization_id = s.organization_id and o.id <> s.id) as others
      from sites s where s.id = ${id} and s.organization_id = ${organizationId} for update`;
    if (!row) return "not_found";
    if (row.devices > 0) return "not_empty";
    if (row.others === 0) return "last";
    await tx`delete from sites where id = ${id}`;
    return "deleted";
  });
}

/** True when the site belongs to the organization. */
export async function siteInOrganization(sql: Sql, organizationId: string, siteId: string): Promise<boolean> {
  const [row] = await sql`select 1 from sites where id = ${siteId} and organization_id = ${organizationId}`;
  return row !== undefined;
}

export interface OrganizationRow {
  id: string;
  name: string;
  /** The public name in its sign-in address, /login?org=<slug>. */
  slug: string;
  createdAt: Date;
  clients: number;
  sites: number;
  devices: number;
  users: number;
}

/** Every organization of the install with its counts (platform administrators). */
export async function listOrganizations(sql: Sql): Promise<OrganizationRow[]> {
  return sql<OrganizationRow[]>`
    select o.id, o.name, o.slug, o.created_at as "createdAt",
           (select count(*)::int from clients c where c.organization_id = o.id) as clients,
           (select count(*)::int from sites s where s.organization_id = o.id) as sites,
           (select count(*)::int from devices d where d.organization_id = o.id) as devices,
           (select count(*)::int from users u where u.organization_id = o.id) as users
    from organizations o order by o.created_at limit 10000`;
}

/** Runs `work` in one transaction: creating an organization spans the sites, users and rules stores. */
export function inTransaction<T>(sql: Sql, work: (tx: Sql) => Promise<T>): Promise<T> {
  return sql.begin((t) => work(t as unknown as Sql)) as Promise<T>;
}
