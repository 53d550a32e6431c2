-- The device list at fleet scale (issue 11). Every sort and filter of GET /api/v1/devices is answered
-- from an index:
-- * device_latest: one row per device with its latest sample's summary and the time telemetry last
--   arrived, written only by telemetry ingest inside its flush transaction (socket batches and
--   beacons alike). Sorting by CPU, memory, disk or last seen walks one of its indexes instead of
--   looking up every device's latest sample across the telemetry partitions.
-- * search: a trigram index (pg_trgm) over hostname, OS name, serial number and tags when the
--   extension is available (embedded PostgreSQL ships it; so do Debian's and the TimescaleDB images).
--   A server without contrib gets no search index: the same `like` query then filters while walking
--   the sorted index, which is correct but scans (see docs/benchmarks.md).
-- * status sort: expression indexes on a status rank, one per direction, hostname A–Z within a status.
create table device_latest (
  device_id uuid primary key references devices(id) on delete cascade,
  organization_id uuid not null,
  -- the sample's own time, and when it was stored (the device's last telemetry contact)
  time timestamptz not null,
  seen_at timestamptz not null,
  cpu_percent real not null,
  memory_percent real not null,
  disk_percent real not null,
  swap_percent real not null,
  load1 real not null,
  network_rx_bps double precision not null,
  network_tx_bps double precision not null,
  uptime_seconds bigint not null
);
create index device_latest_cpu on device_latest (organization_id, cpu_percent, device_id);
create index device_latest_memory on device_latest (organization_id, memory_percent, device_id);
create index device_latest_disk on device_latest (organization_id, disk_percent, device_id);
create index device_latest_seen on device_latest (organization_id, seen_at, device_id);

-- Existing installations: each device's latest stored sample (one index probe per device on
-- device_telemetry (device_id, time desc), not a scan of the whole history).
insert into device_latest (device_id, organization_id, time, seen_at, cpu_percent, memory_percent, disk_percent,
  swap_percent, load1, network_rx_bps, network_tx_bps, uptime_seconds)
select d.id, d.organization_id, t.time, coalesce(d.last_telemetry_at, t.time), t.cpu_percent, t.memory_percent,
  t.disk_percent, t.swap_percent, t.load1, t.network_rx_bps, t.network_tx_bps, t.uptime_seconds
from devices d
cross join lateral (
  select * from device_telemetry x where x.device_id = d.id order by x.time desc limit 1
) t;

-- Devices without telemetry sort last under a metric sort, in id order within the organization.
create index devices_organization_id on devices (organization_id, id);

-- Status order: problems first (offline, unresponsive, online) and its reverse, hostname A–Z within.
create function device_status_rank(status text) returns integer language sql immutable parallel safe
  return case status when 'offline' then 0 when 'unresponsive' then 1 else 2 end;
create index devices_status_rank on devices (organization_id, device_status_rank(status), hostname, id);
create index devices_status_rank_desc on devices (organization_id, (2 - device_status_rank(status)), hostname, id);

-- What `q=` searches, lower-cased: hostname, OS name, serial number and tags, kept in a stored
-- generated column (computed once per write; a filter reads it instead of rebuilding the text for
-- every row it looks at). array_to_string is only stable in general; for text[] it depends on no
-- setting, so the wrapper may be immutable, which a generated column requires.
create function device_search_text(hostname text, os_name text, serial_number text, tags text[]) returns text
  language sql immutable parallel safe
  return lower(hostname || ' ' || os_name || ' ' || serial_number || ' ' || array_to_string(tags, ' '));
alter table devices add column search_text text not null
  generated always as (device_search_text(hostname, os_name, serial_number, tags)) stored;

do $$
begin
  if exists (select 1 from pg_available_extensions where name = 'pg_trgm') then
    create extension if not exists pg_trgm;
    create index devices_search on devices using gin (search_text gin_trgm_ops);
  end if;
end $$;
