import type { Sql } from "postgres";

export interface EnrollmentTokenRow {
  id: string;
  prefix: string;
  siteId: string;
  tags: string[];
  expiresAt: Date;
  maxUses: number | null;
  uses: number;
  createdAt: Date;
  revokedAt: Date | null;
}

const columns = (sql: Sql) => sql`
  id, prefix, site_id as "siteId", tags, expires_at as "expiresAt", max_uses as "maxUses", uses,
  created_at as "createdAt", revoked_at as "revokedAt"`;

export async function insertToken(
  sql: Sql,
  t: {
    organizationId: string;
    siteId: string;
    tokenHash: Buffer;
    prefix: string;
    tags: string[];
    expiresAt: Date;
    maxUses: number | null;
    createdBy: string | null;
  },
): Promise<EnrollmentTokenRow> {
  const [row] = await sql<EnrollmentTokenRow[]>`
    insert into enrollment_tokens (organization_id, site_id, token_hash, prefix, tags, expires_at, max_uses, created_by)
    values (${t.organizationId}, ${t.siteId}, ${t.tokenHash}, ${t.prefix}, ${t.tags}, ${t.expiresAt}, ${t.maxUses}, ${t.createdBy})
    returning ${columns(sql)}`;
  if (!row) throw new Error("insert returned nothing");
  return row;
}

export async function listTokens(sql: Sql, organizationId: string): Promise<EnrollmentTokenRow[]> {
  return sql<EnrollmentTokenRow[]>`
    select ${columns(sql)} from enrollment_tokens where organization_id = ${organizationId}
    order by created_at desc limit 200`;
}

export async function revokeToken(sql: Sql, organizationId: string, id: string): Promise<boolean> {
  const rows = await sql`
    update enrollment_tokens set revoked_at = now()
    where id = ${id} and organization_id = ${organizationId} and revoked_at is null returning id`;
  return rows.count > 0;
}

export type Redemption =
  | {
      ok: true;
      tokenId: string;
      organizationId: string;
      siteId: string;
      tags: string[];
    }
  | { ok: false; reason: "unknown" | "expired" | "used_up" | "revoked" };

/** Spends one use of a token atomically; says why when it cannot be used. */
export async function redeemToken(sql: Sql, tokenHash: Buffer): Promise<Redemption> {
  const [row] = await sql<{ id: string; organizationId: string; siteId: string; tags: string[] }[]>`
    update enrollment_tokens set uses = uses + 1
    where token_hash = ${tokenHash} and revoked_at is null and expires_at > now()
      and (max_uses is null or uses < max_uses)
    returning id, organization_id as "organizationId", site_id as "siteId", tags`;
  if (row)
    return {
      ok: true,
      tokenId: row.id,
      organizationId: row.organizationId,
      siteId: row.siteId,
      tags: row.tags,
    };
  const [t] = await sql<{ revoked: boolean; expired: boolean }[]>`
    select revoked_at is not null as revoked, expires_at <= now() as expired
    from enrollment_tokens where token_hash = ${tokenHash}`;
  if (!t) return { ok: false, reason: "unknown" };
  return {
    ok: false,
    reason: t.revoked ? "revoked" : t.expired ? "expired" : "used_up",
  };
}

/** True when the site belongs to the organization. */
export async function siteInOrganization(sql: Sql, organizationId: string, siteId: string): Promise<boolean> {
  const [row] = await sql`select 1 from sites where id = ${siteId} and organization_id = ${organizationId}`;
  return Boolean(row);
}

export async function defaultSite(sql: Sql, organizationId: string): Promise<string | undefined> {
  const [row] = await sql<{ id: string }[]>`
    select id from sites where organization_id = ${organizationId} order by created_at limit 1`;
  return row?.id;
}
