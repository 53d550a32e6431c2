-- A search of the device list in hostname order walks the hostnames and tests each device's search
-- text. On `devices` every step of that walk is a heap fetch: its rows change with every contact, so
-- index-only scans never apply, and a search whose matches sit far along the order (`sim-4`, the
-- thousands of `DESKTOP-…` of a Windows fleet) walked ~35,000 rows for ~50 ms. `device_search` holds
-- only what a search reads and changes only when those facts change: the walk is index-only.
create table device_search (
  device_id uuid primary key references devices(id) on delete cascade,
  organization_id uuid not null,
  hostname text not null,
  search_text text not null
);

insert into device_search (device_id, organization_id, hostname, search_text)
select id, organization_id, hostname, search_text from devices;

-- the walk: hostname order with the text a search tests in the index itself
create index device_search_walk on device_search (organization_id, hostname, device_id) include (search_text);

do $$
begin
  -- a narrow search (a handful of matches) is answered from trigrams instead of a walk of every hostname
  if exists (select 1 from pg_extension where extname = 'pg_trgm') then
    create index device_search_trgm on device_search using gin (search_text gin_trgm_ops);
  end if;
end $$;

-- statistics now, not when autovacuum comes by: without them a search plans as if every pattern
-- were rare (a trigram bitmap over a fifth of the fleet, then a sort) instead of walking the order
analyze device_search;

create function device_search_sync() returns trigger language plpgsql as $$
begin
  insert into device_search (device_id, organization_id, hostname, search_text)
  values (new.id, new.organization_id, new.hostname, new.search_text)
  on conflict (device_id) do update
    set organization_id = excluded.organization_id, hostname = excluded.hostname, search_text = excluded.search_text;
  return null;
end $$;

create trigger device_search_insert after insert on devices
  for each row execute function device_search_sync();

-- hello facts rewrite these columns on every reconnect: only a real change touches the search row
create trigger device_search_update after update of organization_id, hostname, os_name, serial_number, tags on devices
  for each row
  when (old.organization_id is distinct from new.organization_id or old.search_text is distinct from new.search_text
    or old.hostname is distinct from new.hostname)
  execute function device_search_sync();
