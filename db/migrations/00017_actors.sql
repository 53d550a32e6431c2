-- Who did it: commands, alert notes and audit entries name their actor — a user, an API key, or the
-- alert rule, workflow or schedule that acted — with the actor's name as it was at the time.
alter table commands
  add column actor_type text check (actor_type in ('user', 'api_key', 'rule', 'workflow', 'schedule')),
  add column actor_id uuid,
  add column actor_name text check (length(actor_name) <= 320);
update commands set actor_type = 'user', actor_id = requested_by where requested_by is not null;

alter table alert_notes
  add column actor_type text check (actor_type in ('user', 'api_key', 'rule', 'workflow', 'schedule')),
  add column actor_id uuid,
  add column actor_name text check (length(actor_name) <= 320);
update alert_notes set actor_type = 'user', actor_id = user_id where user_id is not null;

alter table audit_log drop constraint audit_log_actor_type_check;
alter table audit_log add constraint audit_log_actor_type_check
  check (actor_type in ('user', 'api_key', 'agent', 'system', 'rule', 'workflow', 'schedule'));
alter table audit_log add column actor_name text;
