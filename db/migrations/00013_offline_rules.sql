-- Offline rules: a device offline for the rule's duration (scoped, routed to channels like any rule).
alter table alert_rules drop constraint alert_rules_metric_check;
alter table alert_rules add constraint alert_rules_metric_check
  check (metric in ('cpu_percent', 'memory_percent', 'swap_percent', 'disk_free_percent', 'load1', 'script_exit_code', 'offline'));
