-- Custom roles: an organization's own named permission sets (server/auth/permissions.ts lists the
-- names), assigned to a user instead of a built-in role's fixed set. A user with a custom role keeps
-- `readonly` in users.role (below every built-in role for the "no higher than yourself" rule).
create table roles (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations(id) on delete cascade,
  name text not null check (length(name) between 1 and 100),
  permissions text[] not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (organization_id, name)
);

-- No action (checked at the end of the statement): the organization's cascade removes its users and
-- roles together, while deleting a role still in use fails (the API answers 409 before that).
alter table users add column role_id uuid references roles(id);
-- Client-scoped assignment: null reaches the whole organization; otherwise only these clients'
-- devices (another client's device is a 404 to the user, as another organization's is).
alter table users add column client_ids uuid[];
create index users_role on users (role_id) where role_id is not null;
