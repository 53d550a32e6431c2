-- Telemetry on TimescaleDB: a hypertable partitioned by time (1 day), compressed after a day
-- (segmented by device), raw rows dropped after 7 days (8 since 00015). The hourly rollup follows
-- in 00003. No hash dimension on device: TimescaleDB advises against it on a single node (the
-- (device_id, time) index already finds a device's rows); databases created before this change
-- keep their 4 hash partitions, which cost planning time but are otherwise harmless.
create extension if not exists timescaledb;

create table device_telemetry (
  time timestamptz not null,
  device_id uuid not null,
  batch_seq bigint not null,
  cpu_percent real not null,
  cpu_per_core real[] not null,
  load1 real not null,
  load5 real not null,
  load15 real not null,
  memory_total_bytes bigint not null,
  memory_used_bytes bigint not null,
  memory_percent real not null,
  swap_total_bytes bigint not null,
  swap_used_bytes bigint not null,
  swap_percent real not null,
  disk_total_bytes bigint not null,
  disk_used_bytes bigint not null,
  disk_percent real not null,
  disk_read_bps double precision not null,
  disk_write_bps double precision not null,
  network_rx_bps double precision not null,
  network_tx_bps double precision not null,
  uptime_seconds bigint not null,
  process_count integer not null,
  mounts jsonb not null,
  interfaces jsonb not null
);
select create_hypertable('device_telemetry', by_range('time', interval '1 day'));
create index device_telemetry_device_time on device_telemetry (device_id, time desc);

alter table device_telemetry set (
  timescaledb.compress,
  timescaledb.compress_segmentby = 'device_id',
  timescaledb.compress_orderby = 'time desc'
);
select add_compression_policy('device_telemetry', interval '1 day');
select add_retention_policy('device_telemetry', interval '7 days');
