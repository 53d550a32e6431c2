-- Telemetry without TimescaleDB: daily range partitions (created and dropped by the server's
-- maintenance job) and an hourly rollup table kept current by the server's rollup job.
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
) partition by range (time);
create index device_telemetry_device_time on device_telemetry (device_id, time desc);

create table device_telemetry_1h (
  bucket timestamptz not null,
  device_id uuid not null,
  samples bigint not null,
  cpu_percent real not null,
  cpu_percent_max real not null,
  memory_percent real not null,
  memory_percent_max real not null,
  swap_percent real not null,
  disk_percent real not null,
  disk_percent_max real not null,
  load1 real not null,
  network_rx_bps double precision not null,
  network_tx_bps double precision not null,
  disk_read_bps double precision not null,
  disk_write_bps double precision not null,
  primary key (device_id, bucket)
);
