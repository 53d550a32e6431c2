-- The audit log is append-only, in the database as well as in the application: no row is ever
-- changed, and rows leave only (a) through the retention job, which sets
-- `sentpulse.audit_retention = on` for its own transaction (server/audit/store.ts
-- deleteAuditBefore), or (b) with their organization (the `on delete cascade` of organization_id:
-- the organization row is already gone when the cascade reaches these rows).
create function audit_log_append_only() returns trigger language plpgsql as $$
begin
  if tg_op = 'DELETE' then
    if current_setting('sentpulse.audit_retention', true) = 'on' then
      return old;
    end if;
    if old.organization_id is not null and not exists (select 1 from organizations where id = old.organization_id) then
      return old;
    end if;
  end if;
  raise exception 'audit_log is append-only: % refused', tg_op
    using errcode = 'insufficient_privilege', hint = 'audit rows leave only through the retention job';
end
$$;

create trigger audit_log_append_only before update or delete on audit_log
  for each row execute function audit_log_append_only();

create function audit_log_no_truncate() returns trigger language plpgsql as $$
begin
  raise exception 'audit_log is append-only: TRUNCATE refused' using errcode = 'insufficient_privilege';
end
$$;

create trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function audit_log_no_truncate();

-- The audit page pages newest first by id within an organization; retention deletes by age.
create index audit_log_organization_id on audit_log (organization_id, id desc);
create index audit_log_created on audit_log (created_at);
