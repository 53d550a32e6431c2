-- Alert rules on what the endpoint toolbox reads (server/toolbox/health-watch.ts asks the agents):
-- a named service not running, a disk S.M.A.R.T. flags, the hottest sensor, antivirus off or its
-- definitions' age. `service` names the watched service of a service_state rule (and only there).
alter table alert_rules drop constraint alert_rules_metric_check;
alter table alert_rules add constraint alert_rules_metric_check
  check (metric in ('cpu_percent', 'memory_percent', 'swap_percent', 'disk_free_percent', 'load1', 'script_exit_code', 'offline',
                    'service_state', 'disk_failing', 'temperature_c', 'antivirus_disabled', 'antivirus_definitions_age_days'));
alter table alert_rules add column service text;
alter table alert_rules add constraint alert_rules_service_check
  check ((metric = 'service_state') = (service is not null));
