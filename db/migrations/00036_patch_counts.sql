-- Each device's missing updates counted where its compliance is read (server/patches keeps them
-- current on every scan, install and approval decision), so the compliance report and the smart-group
-- criteria read one row per device instead of aggregating every pending update of the fleet.
alter table device_patch_state
  add column missing_critical integer not null default 0,
  add column missing_security integer not null default 0,
  add column failed_updates integer not null default 0,
  add column pending_updates integer not null default 0,
  -- when the oldest critical or security update still missing was first seen (null: none missing)
  add column missing_since timestamptz;
create index device_patch_state_organization on device_patch_state (organization_id);
