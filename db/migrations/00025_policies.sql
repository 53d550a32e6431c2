-- Policies: named bundles of alert rules, script checks and schedules (their scope or target is
-- `{"type": "policy", "id": …}`), attached to the organization, a smart group, a client, a site or a
-- device, and inherited downwards. Levels, outermost first: organization 0, group 1, client 2,
-- site 3, device 4. "Block inheritance" on a client, site or device drops the policies attached at
-- outer levels, except assignments marked "enforced".
create table policies (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations(id) on delete cascade,
  name text not null check (length(name) between 1 and 200),
  description text not null default '' check (length(description) <= 2000),
  enabled boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (organization_id, name)
);

create table policy_assignments (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations(id) on delete cascade,
  policy_id uuid not null references policies(id) on delete cascade,
  target_type text not null check (target_type in ('organization', 'group', 'client', 'site', 'device')),
  -- null only for the organization itself
  target_id uuid check ((target_type = 'organization') = (target_id is null)),
  enforced boolean not null default false,
  level smallint generated always as (
    case target_type when 'organization' then 0 when 'group' then 1 when 'client' then 2 when 'site' then 3 else 4 end) stored,
  created_at timestamptz not null default now()
);
create unique index policy_assignments_once on policy_assignments (policy_id, target_type, coalesce(target_id, organization_id));
create index policy_assignments_organization on policy_assignments (organization_id);
create index policy_assignments_target on policy_assignments (target_id);

create table policy_blocks (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations(id) on delete cascade,
  target_type text not null check (target_type in ('client', 'site', 'device')),
  target_id uuid not null,
  level smallint generated always as (case target_type when 'client' then 2 when 'site' then 3 else 4 end) stored,
  created_at timestamptz not null default now(),
  unique (target_type, target_id)
);
create index policy_blocks_organization on policy_blocks (organization_id);
create index policy_blocks_target on policy_blocks (target_id);

-- Targets disappear with what they name (a client, site, group or device deleted).
create function policy_targets_gone() returns trigger language plpgsql as $$
begin
  delete from policy_assignments where target_id = old.id;
  delete from policy_blocks where target_id = old.id;
  return old;
end $$;
create trigger clients_policy_targets after delete on clients for each row execute function policy_targets_gone();
create trigger sites_policy_targets after delete on sites for each row execute function policy_targets_gone();
create trigger devices_policy_targets after delete on devices for each row execute function policy_targets_gone();
create trigger device_groups_policy_targets after delete on device_groups for each row execute function policy_targets_gone();

-- The one definition of inheritance: every assignment that reaches a device, and the block (if any)
-- that stops it. An assignment applies when `blocked_by` is null; the outermost blocking level is named.
create view device_policy_links as
select d.id as device_id, d.organization_id, a.id as assignment_id, a.policy_id, a.target_type, a.target_id, a.enforced, a.level,
  case when a.enforced then null else (
    select b.id from policy_blocks b
    where b.organization_id = d.organization_id and b.level > a.level
      and ((b.target_type = 'client' and b.target_id = s.client_id)
        or (b.target_type = 'site' and b.target_id = d.site_id)
        or (b.target_type = 'device' and b.target_id = d.id))
    order by b.level limit 1) end as blocked_by
from devices d
join sites s on s.id = d.site_id
join policy_assignments a on a.organization_id = d.organization_id
join policies p on p.id = a.policy_id and p.enabled
where a.target_type = 'organization'
   or (a.target_type = 'client' and a.target_id = s.client_id)
   or (a.target_type = 'site' and a.target_id = d.site_id)
   or (a.target_type = 'device' and a.target_id = d.id)
   or (a.target_type = 'group' and exists (
     select 1 from device_group_members m where m.group_id = a.target_id and m.device_id = d.id));
