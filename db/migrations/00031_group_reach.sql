-- Smart groups as the scope of permission assignments: a user or an API key limited to chosen clients
-- and/or chosen smart groups reaches the devices of those clients plus the current members of those
-- groups (membership follows facts, tags and telemetry, so the reach does too). Null on both: the
-- whole organization. A deleted group simply reaches nothing any more (never more than before).
alter table users add column group_ids uuid[] check (group_ids is null or cardinality(group_ids) between 1 and 100);
alter table api_keys add column group_ids uuid[] check (group_ids is null or cardinality(group_ids) between 1 and 100);
