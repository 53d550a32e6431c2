-- Wake-on-LAN requests: who asked, which online device relayed the magic packet, what happened, and
-- when the device came online afterwards (set by server/toolbox when its status turns online).
create table device_wakes (
  id bigint generated always as identity primary key,
  organization_id uuid not null references organizations(id) on delete cascade,
  device_id uuid not null references devices(id) on delete cascade,
  relay_device_id uuid references devices(id) on delete set null,
  actor_type text not null,
  actor_id text,
  actor_name text,
  macs text[] not null,
  broadcasts text[] not null,
  -- 'sent', or the code of why nothing was sent (NO_NEIGHBOUR, AGENT_TIMEOUT, …)
  outcome text not null check (length(outcome) between 1 and 64),
  requested_at timestamptz not null default now(),
  online_at timestamptz
);
create index device_wakes_device on device_wakes (device_id, requested_at desc);
-- the status reaction looks for recent wakes still waiting for their device
create index device_wakes_waiting on device_wakes (device_id) where online_at is null and outcome = 'sent';
