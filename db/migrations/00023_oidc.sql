-- OpenID Connect sign-in, configured per organization by its admins. The client secret is sealed
-- (AES-256-GCM, like notification channel secrets), never stored in clear and never sent back.
-- allowed_domains empty: any verified e-mail of a user of this organization; auto_create makes
-- unknown users of an allowed domain with default_role at their first sign-in.
create table organization_oidc (
  organization_id uuid primary key references organizations(id) on delete cascade,
  issuer text not null check (length(issuer) between 8 and 500),
  client_id text not null check (length(client_id) between 1 and 300),
  client_secret_sealed text not null,
  allowed_domains text[] not null default '{}',
  default_role text not null check (default_role in ('admin', 'technician', 'readonly')),
  auto_create boolean not null default false,
  button_label text not null check (length(button_label) between 1 and 60),
  updated_at timestamptz not null default now()
);
