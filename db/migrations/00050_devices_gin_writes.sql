-- The device list's search reads `device_search` (migration 00043: its trigram index, and the text
-- each walked row tests); the trigram index on `devices` itself was left from migration 00026. Every
-- status change of a device is an update that changes an indexed column (no HOT update), so it wrote
-- some forty trigram entries into that index's pending list, and whichever statement filled the list
-- (4 MB) merged it into the index: a connect storm's status flips, the second inside the telemetry
-- flush, cost 75-107 us of PostgreSQL CPU per device instead of 35-79, and about one statement of 16
-- devices in a thousand waited 61-103 ms for a merge (scripts/bench-status-flip.ts, 19,000 devices;
-- docs/benchmarks.md, session 16). Searches that pick their matches first now pick them from
-- `device_search` (server/devices/store.ts).
drop index if exists devices_search;

-- The tags index is a GIN index too: with the default 4 MB pending list about one statement in
-- several thousand (three tags a device) waited 48-76 ms for the merge; with 256 kB the merges take
-- 6-9 ms, at the same CPU per flip (scripts/bench-status-flip.ts).
alter index devices_tags set (gin_pending_list_limit = 256);
