-- Threshold rules held for a duration, their state per device, and which rule raised an alert.
create table alert_rules (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations(id) on delete cascade,
  name text not null check (length(name) between 1 and 200),
  metric text not null check (metric in ('cpu_percent', 'memory_percent', 'swap_percent', 'disk_free_percent', 'load1')),
  operator text not null check (operator in ('>', '>=', '<', '<=')),
  threshold double precision not null,
  duration_seconds integer not null default 0 check (duration_seconds between 0 and 86400),
  severity text not null check (severity in ('info', 'warning', 'critical')),
  cooldown_seconds integer not null default 900 check (cooldown_seconds between 0 and 604800),
  scope jsonb not null default '{"type": "organization"}',
  channel_ids uuid[] not null default '{}',
  enabled boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index alert_rules_organization on alert_rules (organization_id);

create table alert_rule_states (
  rule_id uuid not null references alert_rules(id) on delete cascade,
  device_id uuid not null references devices(id) on delete cascade,
  state text not null check (state in ('ok', 'pending', 'firing')),
  since timestamptz not null,
  alert_id uuid references alerts(id) on delete set null,
  last_resolved_at timestamptz,
  primary key (rule_id, device_id)
);

alter table alerts add column rule_id uuid references alert_rules(id) on delete set null;
drop index alerts_open_per_type;
-- one open built-in alert (offline) per device and type, one open alert per rule and device
create unique index alerts_open_builtin on alerts (device_id, type) where state <> 'resolved' and rule_id is null;
create unique index alerts_open_per_rule on alerts (rule_id, device_id) where state <> 'resolved' and rule_id is not null;
