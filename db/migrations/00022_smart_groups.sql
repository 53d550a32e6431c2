-- Smart groups: a named boolean expression over device facts, tags, place, status and latest
-- telemetry (server/groups/expression.ts). Membership is kept current by the group engine on events
-- (stored telemetry, status changes, device changes) and every join and leave is kept as history.
create table device_groups (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations(id) on delete cascade,
  name text not null,
  expression text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (organization_id, name)
);

create table device_group_members (
  group_id uuid not null references device_groups(id) on delete cascade,
  device_id uuid not null references devices(id) on delete cascade,
  since timestamptz not null default now(),
  primary key (group_id, device_id)
);
create index device_group_members_device on device_group_members (device_id);

-- joined / left, kept after the device is gone (no foreign key on the device)
create table device_group_history (
  id bigint generated always as identity primary key,
  group_id uuid not null references device_groups(id) on delete cascade,
  device_id uuid not null,
  event text not null check (event in ('joined', 'left')),
  at timestamptz not null default now()
);
create index device_group_history_group on device_group_history (group_id, at desc);
