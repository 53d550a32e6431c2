-- Approvals and denials for one device (server/patches): a technician limited to some clients decides
-- for the devices they reach, where an organization-wide decision (patch_approvals) is not theirs to
-- give. A denial at either level wins; an approval at either level approves (README, Patches).
create table patch_device_approvals (
  organization_id uuid not null references organizations(id) on delete cascade,
  device_id uuid not null references devices(id) on delete cascade,
  source text not null,
  name text not null,
  version text not null,
  decision text not null check (decision in ('approve', 'deny')),
  actor_type text not null,
  actor_id text,
  actor_name text,
  decided_at timestamptz not null default now(),
  primary key (device_id, source, name, version)
);
create index patch_device_approvals_organization on patch_device_approvals (organization_id);
