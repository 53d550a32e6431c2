import type { Sql } from "postgres";
import type { Reach } from "../auth/permissions.ts";
import { inReach } from "../devices/reach.store.ts";
import type { DeviceSnapshot } from "./expression.ts";

export interface Group {
  id: string;
  name: string;
  expression: string;
  memberCount: number;
  createdAt: Date;
  updatedAt: Date;
}

/** A device as the group engine evaluates it, with the groups it belongs to now. */
export interface DeviceEntry {
  id: string;
  organizationId: string;
  snapshot: DeviceSnapshot;
  /** Time of the latest telemetry in the snapshot, ms (0 without telemetry). */
  telemetryAt: number;
  groups: Set<string>;
}

/** One join or leave the engine decided. */
export interface MembershipChange {
  groupId: string;
  deviceId: string;
  joined: boolean;
}

const groupColumns = (sql: Sql) => sql`
  g.id, g.name, g.expression, g.created_at as "createdAt", g.updated_at as "updatedAt",
  (select count(*)::int from device_group_members m where m.group_id = g.id) as "memberCount"`;

export async function listGroups(sql: Sql, organizationId: string): Promise<Group[]> {
  return sql<Group[]>`select ${groupColumns(sql)} from device_groups g where g.organization_id = ${organizationId} order by g.name, g.id`;
}

/** Which of these ids are smart groups of the organization. */
export async function groupsOfOrganization(sql: Sql, organizationId: string, ids: readonly string[]): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    select id from device_groups where organization_id = ${organizationId} and id = any(${[...ids]}::uuid[])`;
  return rows.map((r) => r.id);
}

export async function getGroup(sql: Sql, organizationId: string, id: string): Promise<Group | undefined> {
  const [row] = await sql<
    Group[]
  >`select ${groupColumns(sql)} from device_groups g where g.id = ${id} and g.organization_id = ${organizationId}`;
  return row;
}

/** Creates a group; a duplicate name is a unique violation (409). */
export async function insertGroup(sql: Sql, organizationId: string, g: { name: string; expression: string }): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    insert into device_groups (organization_id, name, expression) values (${organizationId}, ${g.name}, ${g.expression}) returning id`;
  return (row as { id: string }).id;
}

/** Renames and/or re-expresses a group; the previous values, or undefined when it is not the organization's. */
export async function updateGroup(
  sql: Sql,
  organizationId: string,
  id: string,
  g: { name: string; expression: string },
): Promise<{ name: string; expression: string } | undefined> {
  const [row] = await sql<{ name: string; expression: string }[]>`
    update device_groups g set name = ${g.name}, expression = ${g.expression}, updated_at = now()
    from device_groups before
    where g.id = ${id} and g.organization_id = ${organizationId} and before.id = g.id
    returning before.name, before.expression`;
  return row;
}

/** Deletes a group with its membership and history; its name, or undefined when there is none. */
export async function deleteGroup(sql: Sql, organizationId: string, id: string): Promise<{ name: string } | undefined> {
  const [row] = await sql<{ name: string }[]>`
    delete from device_groups where id = ${id} and organization_id = ${organizationId} returning name`;
  return row;
}

/** The membership history of a group, newest first. */
export async function groupHistory(
  sql: Sql,
  groupId: string,
  limit: number,
): Promise<{ deviceId: string; hostname: string | null; event: "joined" | "left"; at: Date }[]> {
  return sql`
    select h.device_id as "deviceId", d.hostname, h.event, h.at
    from device_group_history h left join devices d on d.id = h.device_id
    where h.group_id = ${groupId} order by h.at desc, h.id desc limit ${limit}`;
}

/** Every group's expression, by organization (the engine compiles them). */
/** The group's members now that the caller reaches (every member when `reach` is null), at most `max`. */
export async function groupMemberIds(sql: Sql, groupId: string, reach: Reach | null, max: number): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    select m.device_id as id from device_group_members m
    where m.group_id = ${groupId} ${inReach(sql, reach, { id: "m.device_id" })} order by m.device_id limit ${max}`;
  return rows.map((r) => r.id);
}

export async function groupExpressions(sql: Sql, organizationId: string): Promise<{ id: string; expression: string }[]> {
  return sql`select id, expression from device_groups where organization_id = ${organizationId}`;
}

interface SnapshotRow extends Omit<DeviceSnapshot, "telemetry"> {
  id: string;
  organizationId: string;
  groups: string[];
  telemetryAt: Date | null;
  cpu: number | null;
  memory: number | null;
  disk: number | null;
  load1: number | null;
  patchScanned: boolean;
  patchCritical: number;
  patchSecurity: number;
}

/** Devices with what expressions read and their current groups: the given ids, or a whole organization. */
export async function deviceEntries(sql: Sql, which: { ids: string[] } | { organizationId: string }): Promise<DeviceEntry[]> {
  const rows = await sql<SnapshotRow[]>`
    select d.id, d.organization_id as "organizationId", d.os, d.os_version as "osVersion", d.os_name as "osName", d.arch,
      d.hostname, d.cpu_model as "cpuModel", d.memory_total_bytes::float8 as "memoryTotalBytes", d.cpu_cores as "cpuCores",
      d.agent_version as "agentVersion", d.status, s.name as "siteName", c.name as "clientName", d.tags,
      array(select m.group_id from device_group_members m where m.device_id = d.id) as groups,
      lt.time as "telemetryAt", lt.cpu_percent::float8 as cpu, lt.memory_percent::float8 as memory,
      lt.disk_percent::float8 as disk, lt.load1::float8 as load1,
      ps.scanned_at is not null as "patchScanned", coalesce(ps.missing_critical, 0) as "patchCritical",
      coalesce(ps.missing_security, 0) as "patchSecurity"
    from devices d join sites s on s.id = d.site_id join clients c on c.id = s.client_id
    left join device_patch_state ps on ps.device_id = d.id
    left join lateral (
      select t.time, t.cpu_percent, t.memory_percent, t.disk_percent, t.load1
      from device_telemetry t where t.device_id = d.id order by t.time desc limit 1
    ) lt on true
    where ${"ids" in which ? sql`d.id = any(${which.ids}::uuid[])` : sql`d.organization_id = ${which.organizationId}`}`;
  return rows.map(
    ({ id, organizationId, groups, telemetryAt, cpu, memory, disk, load1, patchScanned, patchCritical, patchSecurity, ...facts }) => ({
      id,
      organizationId,
      groups: new Set(groups),
      telemetryAt: telemetryAt?.getTime() ?? 0,
      snapshot: {
        ...facts,
        telemetry: telemetryAt ? { cpu: cpu ?? 0, memory: memory ?? 0, disk: disk ?? 0, load1: load1 ?? 0 } : null,
        patch: patchScanned ? { criticalMissing: patchCritical, securityMissing: patchSecurity } : null,
      },
    }),
  );
}

/**
 * Writes joins and leaves in one transaction, each with its history row. A join of a device or
 * group deleted meanwhile is skipped.
 */
export async function applyMembership(sql: Sql, changes: MembershipChange[]): Promise<void> {
  if (changes.length === 0) return;
  const joins = changes.filter((c) => c.joined);
  const leaves = changes.filter((c) => !c.joined);
  await sql.begin(async (tx) => {
    if (joins.length > 0) {
      const joined = await tx<{ groupId: string; deviceId: string }[]>`
        insert into device_group_members (group_id, device_id)
        select u.g, u.d from unnest(${joins.map((c) => c.groupId)}::uuid[], ${joins.map((c) => c.deviceId)}::uuid[]) as u(g, d)
        where exists (select 1 from devices where id = u.d) and exists (select 1 from device_groups where id = u.g)
        on conflict do nothing
        returning group_id as "groupId", device_id as "deviceId"`;
      await history(tx as unknown as Sql, joined, "joined");
    }
    if (leaves.length > 0) {
      const left = await tx<{ groupId: string; deviceId: string }[]>`
        delete from device_group_members m
        using unnest(${leaves.map((c) => c.groupId)}::uuid[], ${leaves.map((c) => c.deviceId)}::uuid[]) as u(g, d)
        where m.group_id = u.g and m.device_id = u.d
        returning m.group_id as "groupId", m.device_id as "deviceId"`;
      await history(tx as unknown as Sql, left, "left");
    }
  });
}

async function history(sql: Sql, rows: { groupId: string; deviceId: string }[], event: "joined" | "left"): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    insert into device_group_history (group_id, device_id, event)
    select g, d, ${event} from unnest(${rows.map((r) => r.groupId)}::uuid[], ${rows.map((r) => r.deviceId)}::uuid[]) as u(g, d)`;
}
