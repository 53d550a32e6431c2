-- Two-factor sign-in (TOTP, RFC 6238), its single-use recovery codes, and the organization's
-- sign-in policy. One user_totp row per user, kept by a trigger, so that starting an enrollment is an
-- update: the secret is sealed (AES-256-GCM, never stored in clear); it is pending while enabled_at is
-- null. last_step is the last time step a code was accepted for: a code is good once (no replay).
create table user_totp (
  user_id uuid primary key references users(id) on delete cascade,
  secret_sealed text,
  enabled_at timestamptz,
  last_step bigint not null default 0,
  updated_at timestamptz not null default now(),
  check (enabled_at is null or secret_sealed is not null)
);
insert into user_totp (user_id) select id from users;

create function users_totp_row() returns trigger language plpgsql as $$
begin
  insert into user_totp (user_id) values (new.id);
  return new;
end
$$;
create trigger users_totp_row after insert on users for each row execute function users_totp_row();

-- Stored as SHA-256 of the normalized code (60 random bits each); used_at set once.
create table user_recovery_codes (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users(id) on delete cascade,
  code_hash bytea not null,
  used_at timestamptz,
  unique (user_id, code_hash)
);

-- Per-organization sign-in policy: "require 2FA" makes users without TOTP enroll at their next sign-in.
create table organization_sign_in (
  organization_id uuid primary key references organizations(id) on delete cascade,
  require_totp boolean not null default false,
  updated_at timestamptz not null default now()
);
