-- The numbers of the endpoint toolbox's health reads (server/toolbox: the health watch every 15 minutes
-- while a rule needs them, and each read a technician asks for), kept as a time series: temperatures,
-- fans, voltages, disks' S.M.A.R.T. counters, batteries, antivirus definitions' age. Kept 90 days.
create table device_health_readings (
  device_id uuid not null references devices(id) on delete cascade,
  time timestamptz not null,
  kind text not null check (kind in ('temperature', 'fan', 'voltage', 'disk_temperature', 'reallocated_sectors',
                                      'pending_sectors', 'disk_wear', 'battery_charge', 'battery_health',
                                      'antivirus_definitions_age_days')),
  subject text not null check (length(subject) <= 300),
  value double precision not null,
  primary key (device_id, kind, subject, time)
);
create index device_health_readings_time on device_health_readings (time);
