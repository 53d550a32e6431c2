import type { PendingQuery, Row, Sql } from "postgres";

type Fragment = PendingQuery<Row[]>;

/** Where a policy can be attached, outermost first (the order of inheritance). */
export type AssignmentTarget = "organization" | "group" | "client" | "site" | "device";
/** Where inheritance can be blocked: a client, a site or a device drops what is attached above it. */
export type BlockTarget = "client" | "site" | "device";

export interface Policy {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
  /** What the policy holds and where it is attached, for the list. */
  ruleCount: number;
  scheduleCount: number;
  assignmentCount: number;
  createdAt: Date;
  updatedAt: Date;
}

/** A named target: the organization, a group, a client, a site or a device, with its display name. */
export interface TargetRef {
  type: AssignmentTarget;
  /** Null for the organization. */
  id: string | null;
  name: string;
}

export interface Assignment {
  id: string;
  policyId: string;
  target: TargetRef;
  enforced: boolean;
  createdAt: Date;
}

export interface Block {
  id: string;
  target: TargetRef;
  createdAt: Date;
}

/** One assignment that reaches a device, applied or stopped by a block (device_policy_links). */
export interface DeviceLink {
  assignmentId: string;
  policyId: string;
  policyName: string;
  via: TargetRef;
  enforced: boolean;
  /** The block that stops it (the outermost one below the assignment), or null: it applies. */
  blockedBy: TargetRef | null;
}

const policyColumns = (sql: Sql) => sql`
  p.id, p.name, p.description, p.enabled, p.created_at as "createdAt", p.updated_at as "updatedAt",
  (select count(*)::int from alert_rules r where r.organization_id = p.organization_id
     and r.scope->>'type' = 'policy' and r.scope->>'id' = p.id::text) as "ruleCount",
  (select count(*)::int from schedules sc where sc.organization_id = p.organization_id
     and sc.target->>'policyId' = p.id::text) as "scheduleCount",
  (select count(*)::int from policy_assignments a where a.policy_id = p.id) as "assignmentCount"`;

/** The display name of a target, from its own table (`type`, `id` and `org` are column expressions). */
const targetName = (sql: Sql, type: Fragment, id: Fragment, org: Fragment) => sql`
  case ${type}
    when 'organization' then (select o.name from organizations o where o.id = ${org})
    when 'group' then (select g.name from device_groups g where g.id = ${id})
    when 'client' then (select c.name from clients c where c.id = ${id})
    when 'site' then (select c.name || ' / ' || s.name from sites s join clients c on c.id = s.client_id where s.id = ${id})
    else (select d.hostname from devices d where d.id = ${id}) end`;

export async function listPolicies(sql: Sql, organizationId: string): Promise<Policy[]> {
  return sql<Policy[]>`select ${policyColumns(sql)} from policies p where p.organization_id = ${organizationId} order by p.name, p.id`;
}

export async function getPolicy(sql: Sql, organizationId: string, id: string): Promise<Policy | undefined> {
  const [row] = await sql<
    Policy[]
  >`select ${policyColumns(sql)} from policies p where p.id = ${id} and p.organization_id = ${organizationId}`;
  return row;
}

/** Creates a policy; a duplicate name is a unique violation (409). */
export async function insertPolicy(
  sql: Sql,
  organizationId: string,
  p: { name: string; description: string; enabled: boolean },
): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    insert into policies (organization_id, name, description, enabled)
    values (${organizationId}, ${p.name}, ${p.description}, ${p.enabled}) returning id`;
  return (row as { id: string }).id;
}

export async function updatePolicy(
  sql: Sql,
  organizationId: string,
  id: string,
  p: { name: string; description: string; enabled: boolean },
): Promise<boolean> {
  const rows = await sql`
    update policies set name = ${p.name}, description = ${p.description}, enabled = ${p.enabled}, updated_at = now()
    where id = ${id} and organization_id = ${organizationId} returning id`;
  return rows.count > 0;
}

/**
 * Deletes a policy with what it holds, in one transaction: `contents` removes its rules and schedules
 * through their owners' stores.
 */
export async function deletePolicy<T>(sql: Sql, organizationId: string, id: string, contents: (tx: Sql) => Promise<T>): Promise<T> {
  return sql.begin(async (t) => {
    const tx = t as unknown as Sql;
    const removed = await contents(tx);
    await tx`delete from policies where id = ${id} and organization_id = ${organizationId}`;
    return removed;
  }) as Promise<T>;
}

/** The target when it exists in the organization (any level), with its name; undefined otherwise. */
export async function findTarget(
  sql: Sql,
  organizationId: string,
  type: AssignmentTarget,
  id: string | null,
): Promise<TargetRef | undefined> {
  const [row] =
    type === "organization"
      ? await sql<{ name: string }[]>`select name from organizations where id = ${organizationId}`
      : type === "group"
        ? await sql<{ name: string }[]>`select name from device_groups where id = ${id} and organization_id = ${organizationId}`
        : type === "client"
          ? await sql<{ name: string }[]>`select name from clients where id = ${id} and organization_id = ${organizationId}`
          : type === "site"
            ? await sql<{ name: string }[]>`
                select c.name || ' / ' || s.name as name from sites s join clients c on c.id = s.client_id
                where s.id = ${id} and c.organization_id = ${organizationId}`
            : await sql<{ name: string }[]>`select hostname as name from devices where id = ${id} and organization_id = ${organizationId}`;
  return row ? { type, id: type === "organization" ? null : id, name: row.name } : undefined;
}

export async function listAssignments(sql: Sql, organizationId: string, policyId?: string): Promise<Assignment[]> {
  const rows = await sql<(Omit<Assignment, "target"> & { targetType: AssignmentTarget; targetId: string | null; targetName: string })[]>`
    select x.id, x.policy_id as "policyId", x.target_type as "targetType", x.target_id as "targetId", x.enforced,
      x.created_at as "createdAt", ${targetName(sql, sql`x.target_type`, sql`x.target_id`, sql`x.organization_id`)} as "targetName"
    from policy_assignments x
    where x.organization_id = ${organizationId} ${policyId ? sql`and x.policy_id = ${policyId}` : sql``}
    order by x.level, x.created_at, x.id`;
  return rows.map(({ targetType, targetId, targetName, ...a }) => ({ ...a, target: { type: targetType, id: targetId, name: targetName } }));
}

/** Attaches a policy; undefined when it is already attached there. */
export async function insertAssignment(
  sql: Sql,
  organizationId: string,
  a: { policyId: string; type: AssignmentTarget; id: string | null; enforced: boolean },
): Promise<string | undefined> {
  const [row] = await sql<{ id: string }[]>`
    insert into policy_assignments (organization_id, policy_id, target_type, target_id, enforced)
    values (${organizationId}, ${a.policyId}, ${a.type}, ${a.id}, ${a.enforced})
    on conflict do nothing returning id`;
  return row?.id;
}

export async function setEnforced(sql: Sql, organizationId: string, policyId: string, id: string, enforced: boolean): Promise<boolean> {
  const rows = await sql`
    update policy_assignments set enforced = ${enforced}
    where id = ${id} and policy_id = ${policyId} and organization_id = ${organizationId} returning id`;
  return rows.count > 0;
}

export async function deleteAssignment(sql: Sql, organizationId: string, policyId: string, id: string): Promise<boolean> {
  const rows = await sql`
    delete from policy_assignments where id = ${id} and policy_id = ${policyId} and organization_id = ${organizationId} returning id`;
  return rows.count > 0;
}

export async function listBlocks(sql: Sql, organizationId: string): Promise<Block[]> {
  const rows = await sql<{ id: string; targetType: BlockTarget; targetId: string; targetName: string; createdAt: Date }[]>`
    select x.id, x.target_type as "targetType", x.target_id as "targetId", x.created_at as "createdAt",
      ${targetName(sql, sql`x.target_type`, sql`x.target_id`, sql`x.organization_id`)} as "targetName"
    from policy_blocks x where x.organization_id = ${organizationId} order by x.level, x.created_at, x.id`;
  return rows.map(({ targetType, targetId, targetName, ...b }) => ({ ...b, target: { type: targetType, id: targetId, name: targetName } }));
}

/** Blocks inheritance at a target; undefined when it is already blocked. */
export async function insertBlock(sql: Sql, organizationId: string, type: BlockTarget, id: string): Promise<string | undefined> {
  const [row] = await sql<{ id: string }[]>`
    insert into policy_blocks (organization_id, target_type, target_id) values (${organizationId}, ${type}, ${id})
    on conflict do nothing returning id`;
  return row?.id;
}

export async function deleteBlock(sql: Sql, organizationId: string, id: string): Promise<{ type: BlockTarget; id: string } | undefined> {
  const [row] = await sql<{ type: BlockTarget; id: string }[]>`
    delete from policy_blocks where id = ${id} and organization_id = ${organizationId}
    returning target_type as type, target_id as id`;
  return row;
}

/** Every assignment that reaches the device (applied or blocked), outermost first. */
export async function deviceLinks(sql: Sql, deviceId: string): Promise<DeviceLink[]> {
  const rows = await sql<
    {
      assignmentId: string;
      policyId: string;
      policyName: string;
      viaType: AssignmentTarget;
      viaId: string | null;
      viaName: string;
      enforced: boolean;
      blockType: BlockTarget | null;
      blockId: string | null;
      blockName: string | null;
    }[]
  >`
    select l.assignment_id as "assignmentId", l.policy_id as "policyId", p.name as "policyName",
      l.target_type as "viaType", l.target_id as "viaId", ${targetName(sql, sql`l.target_type`, sql`l.target_id`, sql`l.organization_id`)} as "viaName",
      l.enforced, b.target_type as "blockType", b.target_id as "blockId",
      ${targetName(sql, sql`b.target_type`, sql`b.target_id`, sql`b.organization_id`)} as "blockName"
    from device_policy_links l
    join policies p on p.id = l.policy_id
    left join policy_blocks b on b.id = l.blocked_by
    where l.device_id = ${deviceId}
    order by l.level, p.name, l.assignment_id`;
  return rows.map((r) => ({
    assignmentId: r.assignmentId,
    policyId: r.policyId,
    policyName: r.policyName,
    via: { type: r.viaType, id: r.viaId, name: r.viaName },
    enforced: r.enforced,
    blockedBy: r.blockType ? { type: r.blockType, id: r.blockId, name: r.blockName ?? "" } : null,
  }));
}

/** The blocks set on the device itself, its site and its client. */
export async function deviceBlocks(sql: Sql, deviceId: string): Promise<Block[]> {
  const rows = await sql<{ id: string; targetType: BlockTarget; targetId: string; targetName: string; createdAt: Date }[]>`
    select x.id, x.target_type as "targetType", x.target_id as "targetId", x.created_at as "createdAt",
      ${targetName(sql, sql`x.target_type`, sql`x.target_id`, sql`x.organization_id`)} as "targetName"
    from devices d join sites s on s.id = d.site_id
    join policy_blocks x on x.target_id in (d.id, d.site_id, s.client_id) and x.organization_id = d.organization_id
    where d.id = ${deviceId} order by x.level`;
  return rows.map(({ targetType, targetId, targetName, ...b }) => ({ ...b, target: { type: targetType, id: targetId, name: targetName } }));
}
