-- Late telemetry and device deletion on the native engine. Hours that received samples older
-- than the rollup job's window wait in telemetry_rollup_pending (written in the same transaction
-- as the samples, so a restart loses none) until the job rolls them up again. A device's hourly
-- rows go with the device, even when a rollup runs while it is being deleted.
create table telemetry_rollup_pending (
  device_id uuid not null,
  bucket timestamptz not null,
  primary key (device_id, bucket)
);

delete from device_telemetry_1h r where not exists (select 1 from devices d where d.id = r.device_id);
alter table device_telemetry_1h add constraint device_telemetry_1h_device
  foreign key (device_id) references devices (id) on delete cascade;
