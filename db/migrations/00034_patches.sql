-- Patch management (server/patches): each device's software inventory (kept current by the deltas its
-- agent sends), the updates its scans report and what became of them, approvals per update version,
-- patch settings attached to policies (so they are inherited like the rest of a policy), maintenance
-- window occurrences (each opened once across server processes) and a daily compliance history.
create table device_software (
  device_id uuid not null references devices(id) on delete cascade,
  source text not null check (source in ('dpkg', 'rpm', 'registry', 'winget', 'applications', 'brew')),
  name text not null check (length(name) between 1 and 256),
  arch text not null default '' check (length(arch) <= 32),
  version text not null check (length(version) <= 128),
  publisher text check (length(publisher) <= 256),
  installed_at timestamptz,
  primary key (device_id, source, name, arch)
);
-- fleet search by name ("which devices have zoom")
create index device_software_name on device_software (lower(name) text_pattern_ops);

create table device_patch_state (
  device_id uuid primary key references devices(id) on delete cascade,
  organization_id uuid not null references organizations(id) on delete cascade,
  -- hash of the inventory stored here (the agent sends a delta against it, or everything when it differs)
  inventory_hash text,
  inventory_items integer not null default 0,
  inventory_truncated boolean not null default false,
  scanned_at timestamptz,
  -- the last scan asked (successful or not), so a device that cannot scan is not asked every tick
  attempted_at timestamptz,
  scan_duration_ms integer,
  peak_rss_bytes bigint,
  sources text[] not null default '{}',
  problems jsonb not null default '[]',
  -- 'ok' or the code of the last failed scan (DEVICE_OFFLINE, AGENT_TIMEOUT…)
  last_outcome text
);
create index device_patch_state_scanned on device_patch_state (scanned_at nulls first);

create table device_updates (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations(id) on delete cascade,
  device_id uuid not null references devices(id) on delete cascade,
  source text not null,
  name text not null check (length(name) between 1 and 256),
  title text not null check (length(title) <= 512),
  current_version text,
  version text not null check (length(version) <= 128),
  classification text not null check (classification in ('critical', 'security', 'feature', 'other')),
  severity text,
  ids text[] not null default '{}',
  origin text,
  size_bytes bigint,
  reboot_required boolean,
  -- pending: reported by the last scan; installing: in an install command; installed: gone after an
  -- install; failed: still there after an install; resolved: gone without an install of ours
  state text not null default 'pending' check (state in ('pending', 'installing', 'installed', 'failed', 'resolved')),
  install_command_id uuid references commands(id) on delete set null,
  attempts integer not null default 0,
  error text,
  first_seen_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  finished_at timestamptz,
  unique (device_id, source, name, version)
);
create index device_updates_open on device_updates (organization_id, classification) where state in ('pending', 'installing', 'failed');
create index device_updates_device on device_updates (device_id, state);
create index device_updates_command on device_updates (install_command_id) where install_command_id is not null;

create table patch_approvals (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations(id) on delete cascade,
  source text not null,
  name text not null,
  version text not null,
  decision text not null check (decision in ('approve', 'deny')),
  actor_type text not null,
  actor_id text,
  actor_name text,
  decided_at timestamptz not null default now(),
  unique (organization_id, source, name, version)
);

-- Patch settings of a policy: the policy's assignments (and inheritance blocks) decide which devices
-- they reach; the innermost policy with patch settings wins.
create table patch_policies (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations(id) on delete cascade,
  policy_id uuid not null unique references policies(id) on delete cascade,
  auto_approve text[] not null default '{}' check (auto_approve <@ array['critical', 'security', 'feature', 'other']),
  auto_approve_sources text[] not null default '{}',
  deferral_days integer not null default 0 check (deferral_days between 0 and 365),
  -- rings: members of the pilot group get an update first; the rest once it installed in the pilot
  -- at least ring_delay_days ago and failed nowhere in it
  pilot_group_id uuid references device_groups(id) on delete set null,
  ring_delay_days integer not null default 0 check (ring_delay_days between 0 and 90),
  window_cron text,
  window_duration_minutes integer not null default 120 check (window_duration_minutes between 5 and 1440),
  window_timezone text not null default 'UTC',
  reboot text not null default 'if_needed' check (reboot in ('never', 'if_needed', 'force')),
  reboot_delay_seconds integer not null default 300 check (reboot_delay_seconds between 0 and 3600),
  exclusions text[] not null default '{}',
  scan_interval_hours integer not null default 6 check (scan_interval_hours between 1 and 168),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index patch_policies_organization on patch_policies (organization_id);

create table patch_window_runs (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations(id) on delete cascade,
  patch_policy_id uuid not null references patch_policies(id) on delete cascade,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  -- 'schedule' or the user who opened it
  opened_by text not null,
  devices integer not null default 0,
  updates integer not null default 0,
  created_at timestamptz not null default now(),
  unique (patch_policy_id, starts_at)
);

create table patch_compliance_history (
  organization_id uuid not null references organizations(id) on delete cascade,
  day date not null,
  devices integer not null,
  compliant integer not null,
  missing_critical integer not null,
  missing_security integer not null,
  failed integer not null,
  primary key (organization_id, day)
);
