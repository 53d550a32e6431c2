-- Statements run thousands of times a second with an array of ids are planned once per connection.
--
-- PostgreSQL plans a prepared statement anew for its parameters (a custom plan) as long as that looks
-- cheaper than one plan for any parameters (a generic plan). With an array parameter it always does:
-- a custom plan knows the array holds one or two ids, a generic one assumes more. So a flush of one
-- sample, or the rule evaluator reading one device's facts, planned every statement every time:
-- measured at 10,000 agents connecting (scripts/bench-pulse.ts, BENCH_PULSE_STATEMENTS=1), a
-- third of telemetry_flush's time was planning (0.8 of 2.5 ms per call), and reading devices' facts
-- for rules spent 1.05 ms planning for 0.14 ms executing. A generic plan here is the plan a custom
-- one would be: index probes per id, in id order, for any number of ids.
--
-- plan_cache_mode set on a function holds for the statements it runs, nowhere else.
alter function telemetry_flush(uuid[], int[], bigint[], bigint[], json, timestamptz, uuid, timestamptz)
  set plan_cache_mode = force_generic_plan;

-- The facts rule evaluation needs of some devices: site, client, tags, smart groups and the policies
-- that apply (device_policy_links: assignments reaching the device, blocks considered).
create function rule_device_facts(p_ids uuid[])
returns table (id uuid, organization_id uuid, hostname text, site_id uuid, client_id uuid, tags text[], group_ids uuid[],
  policy_ids uuid[])
language plpgsql stable
set plan_cache_mode = force_generic_plan
as $$
#variable_conflict use_column
begin
  return query
  select d.id, d.organization_id, d.hostname, d.site_id, s.client_id, d.tags,
    array(select m.group_id from device_group_members m where m.device_id = d.id),
    array(select distinct l.policy_id from device_policy_links l where l.device_id = d.id and l.blocked_by is null)
  from devices d join sites s on s.id = d.site_id where d.id = any(p_ids);
end $$;

-- The signing keys of devices opening sockets or sending beacons (every handshake of one moment at once).
create function device_signing_keys(p_ids uuid[], p_rotation_s double precision)
returns table (id uuid, organization_id uuid, hostname text, current bytea, pending bytea, previous bytea, rotation_due boolean)
language plpgsql stable
set plan_cache_mode = force_generic_plan
as $$
#variable_conflict use_column
begin
  return query
  select d.id, d.organization_id, d.hostname, d.secret_hash, d.pending_secret_hash,
    case when d.previous_secret_valid_until > now() then d.previous_secret_hash end,
    d.secret_rotated_at < now() - make_interval(secs => p_rotation_s)
  from devices d where d.id = any(p_ids);
end $$;
