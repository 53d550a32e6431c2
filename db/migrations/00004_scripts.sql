-- The script library, and what a command needs to run exactly once in order.
create table scripts (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations(id) on delete cascade,
  name text not null check (length(name) between 1 and 200),
  description text not null default '',
  language text not null check (language in ('bash', 'sh', 'powershell', 'python')),
  content text not null check (length(content) <= 262144),
  default_args text[] not null default '{}',
  timeout_seconds integer not null default 300 check (timeout_seconds between 1 and 86400),
  tags text[] not null default '{}',
  created_by uuid references users(id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (organization_id, name)
);

alter table commands add column script_id uuid references scripts(id) on delete set null;
alter table commands add column timeout_seconds integer not null default 300;
alter table commands add column stdout_truncated boolean not null default false;
alter table commands add column stderr_truncated boolean not null default false;
create index commands_organization on commands (organization_id, created_at desc);
