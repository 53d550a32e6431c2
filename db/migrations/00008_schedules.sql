-- Scheduled scripts: cron (time-zone aware) or one-off, on devices, a site or a tag; one run per occurrence.
create table schedules (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations(id) on delete cascade,
  name text not null check (length(name) between 1 and 200),
  cron text,
  run_at timestamptz,
  timezone text not null default 'UTC',
  target jsonb not null,
  spec jsonb not null,
  script_id uuid references scripts(id) on delete set null,
  enabled boolean not null default true,
  next_run_at timestamptz,
  last_run_at timestamptz,
  created_by uuid references users(id) on delete set null,
  created_at timestamptz not null default now(),
  check ((cron is null) <> (run_at is null))
);
create index schedules_due on schedules (next_run_at) where enabled;

create table schedule_runs (
  id uuid primary key default gen_random_uuid(),
  schedule_id uuid not null references schedules(id) on delete cascade,
  organization_id uuid not null references organizations(id) on delete cascade,
  due_at timestamptz not null,
  started_at timestamptz not null default now(),
  device_count integer not null,
  command_ids uuid[] not null,
  unique (schedule_id, due_at)
);
