-- When a device's pending secret was offered. One rotation is in flight per device at a time: a
-- beacon answer and a socket call racing each other would otherwise hand the agent two secrets, of
-- which the server might complete the one the agent did not keep.
alter table devices add column pending_secret_at timestamptz;
update devices set pending_secret_at = now() where pending_secret_hash is not null;
