-- Script checks: a rule whose value is the exit code of a script the server has its devices run every
-- interval; the commands that carry them; flap detection per rule and device.
alter table alert_rules drop constraint alert_rules_metric_check;
alter table alert_rules add constraint alert_rules_metric_check
  check (metric in ('cpu_percent', 'memory_percent', 'swap_percent', 'disk_free_percent', 'load1', 'script_exit_code'));
alter table alert_rules
  add column check_spec jsonb,
  add column check_script_id uuid references scripts(id) on delete set null,
  add column check_interval_seconds integer check (check_interval_seconds between 10 and 86400),
  add constraint alert_rules_check_needs_spec
    check ((metric = 'script_exit_code') = (check_spec is not null and check_interval_seconds is not null));

alter table commands add column check_rule_id uuid references alert_rules(id) on delete cascade;
create index commands_check on commands (check_rule_id, device_id, created_at desc) where check_rule_id is not null;

alter table alert_rule_states
  add column changes timestamptz[] not null default '{}',
  add column flapping boolean not null default false;
