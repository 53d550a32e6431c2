-- Platform administrators run the install itself (MSP mode: several MSPs on one SENTpulse, each an
-- isolated organization) and are the only ones who create organizations. The first owner of the
-- oldest organization (the one the first start created) becomes one.
alter table users add column platform_admin boolean not null default false;
update users set platform_admin = true
where id = (
  select u.id from users u join organizations o on o.id = u.organization_id
  where u.role = 'owner' order by o.created_at, u.created_at limit 1
);
