-- A schedule runs either a script or a workflow (one whose trigger is "schedule") on its devices.
alter table schedules alter column spec drop not null;
alter table schedules add column workflow_id uuid references workflows(id) on delete cascade;
alter table schedules add constraint schedules_script_or_workflow check ((spec is null) <> (workflow_id is null));
