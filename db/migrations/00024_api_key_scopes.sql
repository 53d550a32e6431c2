-- API key scopes: a key may hold only some of its role's permissions (null: all of them).
alter table api_keys add column scopes text[] check (scopes is null or cardinality(scopes) <= 64);
