-- Notification channels (secrets encrypted at rest) and the outbox every delivery goes through.
create table notification_channels (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations(id) on delete cascade,
  name text not null check (length(name) between 1 and 200),
  type text not null check (type in ('email', 'slack', 'teams', 'discord', 'telegram', 'webhook', 'sms')),
  config_encrypted text not null,
  enabled boolean not null default true,
  created_at timestamptz not null default now()
);
create index notification_channels_organization on notification_channels (organization_id);

create table notification_outbox (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations(id) on delete cascade,
  channel_id uuid not null references notification_channels(id) on delete cascade,
  alert_id uuid references alerts(id) on delete set null,
  event text not null,
  payload jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'delivered', 'dead')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  last_error text,
  created_at timestamptz not null default now(),
  delivered_at timestamptz
);
create index notification_outbox_due on notification_outbox (next_attempt_at) where status = 'pending';
create index notification_outbox_dead on notification_outbox (organization_id, created_at desc) where status = 'dead';
