-- sentpulse:no-transaction
-- Late samples (agents replay spools up to 7 days old) reach the hourly rollup: the refresh
-- policy covers the whole acceptance window (a refresh only recomputes hours whose raw rows
-- changed). Raw chunks are kept a day longer than that window, because a refresh over dropped raw
-- data would erase materialized hours (TimescaleDB: start_offset must stay below drop_after).
-- Runs outside the migration transaction so that it follows 00003, which creates the aggregate.
select remove_continuous_aggregate_policy('device_telemetry_1h');
select add_continuous_aggregate_policy('device_telemetry_1h',
  start_offset => interval '7 days',
  end_offset => interval '1 hour',
  schedule_interval => interval '15 minutes');
select remove_retention_policy('device_telemetry');
select add_retention_policy('device_telemetry', interval '8 days');

-- A continuous aggregate cannot have a foreign key; its materialization hypertable can be
-- modified like any hypertable, so a deleted device's hours are deleted from it.
create function forget_device_rollup() returns trigger language plpgsql as $$
declare
  materialized text;
begin
  select format('%I.%I', materialization_hypertable_schema, materialization_hypertable_name) into materialized
  from timescaledb_information.continuous_aggregates
  where view_schema = current_schema() and view_name = 'device_telemetry_1h';
  execute format('delete from %s where device_id = $1', materialized) using old.id;
  return old;
end $$;
create trigger devices_forget_rollup after delete on devices
  for each row execute function forget_device_rollup();
