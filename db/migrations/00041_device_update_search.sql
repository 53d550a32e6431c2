-- Searching updates (server/patches, `?q=` on the update lists): a package name, words of the title, or
-- a CVE / KB / advisory id, case-insensitively, without reading every open update of the organization.
-- One lower-cased text per update (name, title and ids) and, where pg_trgm is available, a trigram
-- index on it, so a substring search is an index scan (a CVE id no update has: 1.9 s p50 at 500,000
-- open updates without it, docs/benchmarks.md). array_to_string is only stable in general; for text[]
-- it depends on no setting, so the wrapper may be immutable, which a generated column requires.
create function device_update_search_text(name text, title text, ids text[]) returns text
  language sql immutable parallel safe
  return lower(name || ' ' || title || ' ' || array_to_string(ids, ' '));
alter table device_updates add column search_text text not null
  generated always as (device_update_search_text(name, title, ids)) stored;

do $$
begin
  if exists (select 1 from pg_available_extensions where name = 'pg_trgm') then
    create extension if not exists pg_trgm;
    create index device_updates_search on device_updates using gin (search_text gin_trgm_ops);
  end if;
end $$;
