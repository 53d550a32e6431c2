-- Terminal sessions: who opened a shell on which device, when, and what it showed (asciicast v2).
create table terminal_sessions (
  id uuid primary key,
  organization_id uuid not null references organizations(id) on delete cascade,
  device_id uuid not null references devices(id) on delete cascade,
  user_id uuid references users(id) on delete set null,
  started_at timestamptz not null default now(),
  ended_at timestamptz,
  end_reason text,
  cols integer not null,
  rows integer not null,
  recording text not null default '',
  recording_truncated boolean not null default false
);
create index terminal_sessions_device on terminal_sessions (device_id, started_at desc);
create index terminal_sessions_organization on terminal_sessions (organization_id, started_at desc);
