import type { Sql } from "postgres";

/** Most tags a device carries. */
const MAX_TAGS = 32;

/**
 * Adds and removes tags on many devices in one statement. A tag added as `key=value` replaces the
 * device's other values of that key (a key has one value); removing `key` or `key=value` removes
 * exactly that tag. Devices that would exceed MAX_TAGS are left as they are. Returns the devices that
 * changed and those skipped.
 */
export async function retag(
  sql: Sql,
  organizationId: string,
  deviceIds: string[],
  add: string[],
  remove: string[],
): Promise<{ changed: string[]; skipped: string[] }> {
  const rows = await sql<{ id: string; changed: boolean }[]>`
    with next as (
      select d.id, d.tags as before, array(
        select distinct t from (
          select x as t from unnest(d.tags) x
          where x <> all(${remove}::text[])
            and split_part(x, '=', 1) <> all(array(select split_part(a, '=', 1) from unnest(${add}::text[]) a where a like '%=%'))
          union all select a from unnest(${add}::text[]) a) u
        order by t) as after
      from devices d where d.organization_id = ${organizationId} and d.id = any(${deviceIds}::uuid[])
    ), done as (
      update devices d set tags = n.after from next n
      where d.id = n.id and n.after is distinct from n.before and cardinality(n.after) <= ${MAX_TAGS}
      returning d.id)
    select n.id, exists (select 1 from done where done.id = n.id) as changed from next n
    where n.after is distinct from n.before`;
  return { changed: rows.filter((r) => r.changed).map((r) => r.id), skipped: rows.filter((r) => !r.changed).map((r) => r.id) };
}
