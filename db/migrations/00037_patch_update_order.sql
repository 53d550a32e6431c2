-- The fleet's update list is read newest first: an index in that order lets a filtered page (by
-- approval, computed per row) stop after its page instead of sorting every open update.
create index device_updates_recent on device_updates (organization_id, last_seen_at desc, id);
