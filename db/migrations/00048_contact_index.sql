-- Status sweeps between full ones look only at devices whose last contact aged past the offline window
-- lately (server/devices/status.store.ts, StatusScope): contact other than telemetry (a socket opened, a
-- beacon) is devices.last_seen_at, read here by range; telemetry contact is read through device_latest_seen.
-- At 100,000 devices a full sweep costs ~130 ms of PostgreSQL every 2 s (docs/benchmarks.md, session 14).
create index devices_last_seen on devices (last_seen_at);
