-- Notes on alerts, maintenance windows that mute a scope, and escalation of unacknowledged alerts.
create table alert_notes (
  id uuid primary key default gen_random_uuid(),
  alert_id uuid not null references alerts(id) on delete cascade,
  organization_id uuid not null references organizations(id) on delete cascade,
  user_id uuid references users(id) on delete set null,
  text text not null check (length(text) between 1 and 4000),
  created_at timestamptz not null default now()
);
create index alert_notes_alert on alert_notes (alert_id, created_at);

create table maintenance_windows (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations(id) on delete cascade,
  name text not null check (length(name) between 1 and 200),
  scope jsonb not null,
  starts_at timestamptz not null,
  ends_at timestamptz not null check (ends_at > starts_at),
  created_at timestamptz not null default now()
);
create index maintenance_windows_active on maintenance_windows (organization_id, ends_at);

alter table alert_rules add column escalate_after_seconds integer check (escalate_after_seconds is null or escalate_after_seconds between 60 and 604800);
alter table alert_rules add column escalation_channel_ids uuid[] not null default '{}';
alter table alerts add column escalated_at timestamptz;
