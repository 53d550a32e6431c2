-- A disk rule may watch one mount ("/", "/var", "C:"); without one it watches the fullest.
alter table alert_rules add column mount text check (length(mount) between 1 and 256);
