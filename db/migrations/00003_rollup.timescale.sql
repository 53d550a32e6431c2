-- sentpulse:no-transaction
-- The hourly rollup as a continuous aggregate (real-time: the current hour reads raw rows),
-- refreshed every 15 minutes, kept for a year.
create materialized view device_telemetry_1h
with (timescaledb.continuous, timescaledb.materialized_only = false) as
select
  time_bucket(interval '1 hour', time) as bucket,
  device_id,
  count(*) as samples,
  avg(cpu_percent)::real as cpu_percent,
  max(cpu_percent) as cpu_percent_max,
  avg(memory_percent)::real as memory_percent,
  max(memory_percent) as memory_percent_max,
  avg(swap_percent)::real as swap_percent,
  avg(disk_percent)::real as disk_percent,
  max(disk_percent) as disk_percent_max,
  avg(load1)::real as load1,
  avg(network_rx_bps) as network_rx_bps,
  avg(network_tx_bps) as network_tx_bps,
  avg(disk_read_bps) as disk_read_bps,
  avg(disk_write_bps) as disk_write_bps
from device_telemetry
group by 1, 2
with no data;

select add_continuous_aggregate_policy('device_telemetry_1h',
  start_offset => interval '3 days',
  end_offset => interval '1 hour',
  schedule_interval => interval '15 minutes');
select add_retention_policy('device_telemetry_1h', interval '1 year');
