-- API keys like users: a custom role instead of a built-in one (the key keeps `readonly` in role, as a
-- user does), a restriction to chosen clients, and rotation (the new key names the one it replaced;
-- the old one stays valid for a grace period through its expiry).
-- a revoked key lets its role go (live keys are checked first: ROLE_IN_USE)
alter table api_keys add column role_id uuid references roles(id) on delete set null;
alter table api_keys add column client_ids uuid[] check (client_ids is null or cardinality(client_ids) between 1 and 500);
alter table api_keys add column rotated_from uuid references api_keys(id) on delete set null;
create index api_keys_role on api_keys (role_id) where role_id is not null;
