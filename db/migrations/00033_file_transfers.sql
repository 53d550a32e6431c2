-- The file explorer (server/files): transfers between the server's staging area and a device, resumed
-- from `done_bytes` after a cut socket or a restart, and elevations (a technician's reasoned,
-- time-limited permission to act as root/SYSTEM on one device).
create table file_transfers (
  id uuid primary key,
  organization_id uuid not null references organizations(id) on delete cascade,
  device_id uuid not null references devices(id) on delete cascade,
  direction text not null check (direction in ('download', 'upload')),
  path text not null check (length(path) between 1 and 4096),
  -- bytes of the whole file (an upload's once it reached the server; a download's from the device's stat)
  size bigint not null check (size >= 0),
  -- a download's modification time on the device (epoch ms): the file must not change while it is read
  source_mtime double precision,
  -- bytes moved and acknowledged: the staged file's length (download) or the device's partial file (upload)
  done_bytes bigint not null default 0 check (done_bytes >= 0),
  -- bytes carried over the agent's socket, repeats after a cut included
  wire_bytes bigint not null default 0,
  sha256 text check (sha256 ~ '^[0-9a-f]{64}$'),
  state text not null check (state in ('staging', 'queued', 'running', 'waiting', 'paused', 'done', 'failed', 'cancelled')),
  error text check (length(error) <= 1024),
  elevated boolean not null default false,
  overwrite boolean not null default false,
  -- per-transfer cap, bytes/s (null: the device's cap alone)
  rate_limit_bps bigint check (rate_limit_bps > 0),
  -- the file under the staging directory (download: as it arrives; upload: the tus upload's id)
  staging_name text not null check (staging_name ~ '^[A-Za-z0-9._-]{1,128}$'),
  actor_type text not null check (actor_type in ('user', 'api_key', 'rule', 'workflow', 'schedule')),
  actor_id uuid,
  actor_name text check (length(actor_name) <= 320),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz
);
create index file_transfers_org on file_transfers (organization_id, created_at desc);
create index file_transfers_active on file_transfers (device_id) where state in ('queued', 'running', 'waiting');

create table file_elevations (
  id uuid primary key,
  organization_id uuid not null references organizations(id) on delete cascade,
  device_id uuid not null references devices(id) on delete cascade,
  actor_type text not null check (actor_type in ('user', 'api_key')),
  actor_id uuid not null,
  actor_name text check (length(actor_name) <= 320),
  reason text not null check (length(reason) between 3 and 500),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  ended_at timestamptz
);
create index file_elevations_actor on file_elevations (actor_id, device_id, expires_at desc);
