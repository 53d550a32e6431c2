-- A schedule may wake its devices (Wake-on-LAN through a neighbour) instead of running a script or a
-- workflow: a patch window's schedule wakes the fleet a few minutes before. Exactly one of the three.
alter table schedules add column wake boolean not null default false;
alter table schedules drop constraint schedules_script_or_workflow;
alter table schedules add constraint schedules_one_action
  check ((spec is not null)::int + (workflow_id is not null)::int + wake::int = 1);
