-- The device list's search reads `device_search` (migration 00043: its trigram index, and the text
-- each walked row tests); the trigram index on `devices` itself was left from migration 00026. Every
-- status change of a device is an update that changes an indexed column (no HOT update), so it wrote
-- some forty trigram entries into that index's pending list, and whichever statement filled the list
-- (4 MB) merged it into the index: a connect storm's status flips, which run inside telemetry flushes,
-- cost 78-98 us of PostgreSQL CPU per device instead of 50-55, and one flush in a few hundred waited
-- 50-74 ms for a merge (19,000 devices, 16 per statement; docs/benchmarks.md, session 16). Searches
-- that pick their matches first now pick them from `device_search` (server/devices/store.ts).
drop index if exists devices_search;

-- The tags index is a GIN index too: with the default 4 MB pending list one status flip in ~20,000
-- (three tags a device) waited ~75 ms for the merge; with 256 kB the merges are ~8 ms, at the same CPU
-- per flip (scripts/bench-status-flip.ts).
alter index devices_tags set (gin_pending_list_limit = 256);
