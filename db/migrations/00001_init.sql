-- Tenancy, people, programs, devices, commands, alerts and the audit log.
create table organizations (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(name) between 1 and 200),
  created_at timestamptz not null default now()
);

create table clients (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations(id) on delete cascade,
  name text not null check (length(name) between 1 and 200),
  created_at timestamptz not null default now(),
  unique (organization_id, name)
);

create table sites (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations(id) on delete cascade,
  client_id uuid not null references clients(id) on delete cascade,
  name text not null check (length(name) between 1 and 200),
  created_at timestamptz not null default now(),
  unique (client_id, name)
);
create index sites_organization on sites (organization_id);

create table users (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations(id) on delete cascade,
  email text not null check (length(email) between 3 and 320),
  name text not null default '',
  password_hash text not null,
  role text not null check (role in ('owner', 'admin', 'technician', 'readonly')),
  totp_secret text,
  created_at timestamptz not null default now(),
  last_login_at timestamptz,
  disabled_at timestamptz
);
create unique index users_email on users (lower(email));
create index users_organization on users (organization_id);

create table sessions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users(id) on delete cascade,
  token_hash bytea not null unique,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  last_used_at timestamptz not null default now(),
  ip text,
  user_agent text
);
create index sessions_user on sessions (user_id);

create table api_keys (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations(id) on delete cascade,
  created_by uuid references users(id) on delete set null,
  name text not null check (length(name) between 1 and 200),
  prefix text not null,
  key_hash bytea not null unique,
  role text not null check (role in ('admin', 'technician', 'readonly')),
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  expires_at timestamptz,
  revoked_at timestamptz
);
create index api_keys_organization on api_keys (organization_id);

create table enrollment_tokens (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations(id) on delete cascade,
  site_id uuid not null references sites(id) on delete cascade,
  token_hash bytea not null unique,
  prefix text not null,
  tags text[] not null default '{}',
  expires_at timestamptz not null,
  max_uses integer check (max_uses is null or max_uses > 0),
  uses integer not null default 0,
  created_by uuid references users(id) on delete set null,
  created_at timestamptz not null default now(),
  revoked_at timestamptz
);
create index enrollment_tokens_organization on enrollment_tokens (organization_id, created_at desc);

create table server_nodes (
  id uuid primary key,
  hostname text not null,
  started_at timestamptz not null default now(),
  heartbeat_at timestamptz not null default now()
);

create table devices (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations(id) on delete cascade,
  site_id uuid not null references sites(id),
  enrollment_token_id uuid references enrollment_tokens(id) on delete set null,
  hostname text not null,
  os text not null check (os in ('linux', 'windows', 'darwin')),
  os_name text not null default '',
  os_version text not null default '',
  kernel text not null default '',
  arch text not null default '',
  agent_version text not null default '',
  serial_number text not null default '',
  cpu_model text not null default '',
  cpu_cores integer not null default 0,
  memory_total_bytes bigint not null default 0,
  nics jsonb not null default '[]',
  disks jsonb not null default '[]',
  tags text[] not null default '{}',
  -- credentials: HMAC keys derived from the device secret; the secret itself is never stored
  secret_hash bytea not null,
  previous_secret_hash bytea,
  previous_secret_valid_until timestamptz,
  pending_secret_hash bytea,
  secret_rotated_at timestamptz not null default now(),
  -- pulse
  status text not null default 'offline' check (status in ('online', 'unresponsive', 'offline')),
  status_changed_at timestamptz not null default now(),
  last_seen_at timestamptz,
  last_telemetry_at timestamptz,
  ws_node uuid,
  last_batch_seq bigint not null default 0,
  last_beacon_ts bigint not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index devices_organization on devices (organization_id, hostname, id);
create index devices_status on devices (organization_id, status);
create index devices_site on devices (site_id);
create index devices_tags on devices using gin (tags);

create table commands (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations(id) on delete cascade,
  device_id uuid not null references devices(id) on delete cascade,
  type text not null,
  payload jsonb not null default '{}',
  status text not null default 'queued'
    check (status in ('queued', 'sent', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled', 'expired')),
  exit_code integer,
  stdout text not null default '',
  stderr text not null default '',
  requested_by uuid references users(id) on delete set null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null default now() + interval '7 days',
  sent_at timestamptz,
  started_at timestamptz,
  finished_at timestamptz
);
create index commands_device on commands (device_id, created_at desc);
create index commands_pending on commands (device_id, created_at) where status in ('queued', 'sent');

create table alerts (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations(id) on delete cascade,
  device_id uuid not null references devices(id) on delete cascade,
  type text not null,
  severity text not null check (severity in ('info', 'warning', 'critical')),
  state text not null check (state in ('pending', 'firing', 'resolved')),
  message text not null,
  created_at timestamptz not null default now(),
  acknowledged_at timestamptz,
  acknowledged_by uuid references users(id) on delete set null,
  resolved_at timestamptz
);
create index alerts_organization on alerts (organization_id, created_at desc);
create index alerts_device on alerts (device_id, created_at desc);
-- one open alert of a built-in type per device
create unique index alerts_open_per_type on alerts (device_id, type) where state <> 'resolved';

create table audit_log (
  id bigint generated always as identity primary key,
  organization_id uuid references organizations(id) on delete cascade,
  actor_type text not null check (actor_type in ('user', 'api_key', 'agent', 'system')),
  actor_id uuid,
  action text not null,
  target_type text,
  target_id uuid,
  details jsonb not null default '{}',
  ip text,
  created_at timestamptz not null default now()
);
create index audit_log_organization on audit_log (organization_id, created_at desc);
