-- Automation: an event (alert firing or resolved, device offline or back) runs actions; every run is kept.
create table workflows (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations(id) on delete cascade,
  name text not null check (length(name) between 1 and 200),
  trigger jsonb not null,
  actions jsonb not null,
  enabled boolean not null default true,
  created_at timestamptz not null default now()
);
create index workflows_organization on workflows (organization_id) where enabled;

create table workflow_runs (
  id uuid primary key default gen_random_uuid(),
  workflow_id uuid not null references workflows(id) on delete cascade,
  organization_id uuid not null references organizations(id) on delete cascade,
  device_id uuid references devices(id) on delete cascade,
  event text not null,
  alert_id uuid references alerts(id) on delete set null,
  started_at timestamptz not null default now(),
  results jsonb not null
);
create index workflow_runs_workflow on workflow_runs (workflow_id, started_at desc);
