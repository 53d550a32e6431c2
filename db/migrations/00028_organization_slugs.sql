-- Organizations get a short public name (slug) for their sign-in address, /login?org=<slug>: on an
-- install hosting several MSPs the login page shows only that organization's single sign-on button,
-- never the list of every tenant.
create function organization_slug_for(name text) returns text language plpgsql as $$
declare
  base text := left(trim(both '-' from lower(regexp_replace(name, '[^A-Za-z0-9]+', '-', 'g'))), 40);
  candidate text;
  n int := 1;
begin
  base := coalesce(nullif(trim(both '-' from base), ''), 'org');
  candidate := base;
  while exists (select 1 from organizations where slug = candidate) loop
    n := n + 1;
    candidate := base || '-' || n;
  end loop;
  return candidate;
end $$;

alter table organizations add column slug text;
do $$
declare r record;
begin
  for r in select id, name from organizations order by created_at, id loop
    update organizations set slug = organization_slug_for(r.name) where id = r.id;
  end loop;
end $$;
alter table organizations alter column slug set not null;
alter table organizations add constraint organizations_slug_format check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$');
create unique index organizations_slug on organizations (slug);

create function organization_slug() returns trigger language plpgsql as $$
begin
  if new.slug is null then new.slug := organization_slug_for(new.name); end if;
  return new;
end $$;
create trigger organizations_slug before insert on organizations for each row execute function organization_slug();
