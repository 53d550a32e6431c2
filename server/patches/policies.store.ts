import type { Sql } from "postgres";

/** Patch settings of a policy, as the API shows them. */
export interface PatchPolicy {
  id: string;
  organizationId: string;
  policyId: string;
  policyName: string;
  autoApprove: string[];
  autoApproveSources: string[];
  deferralDays: number;
  pilotGroupId: string | null;
  ringDelayDays: number;
  window: { cron: string; durationMinutes: number; timezone: string } | null;
  reboot: "never" | "if_needed" | "force";
  rebootDelaySeconds: number;
  exclusions: string[];
  scanIntervalHours: number;
  createdAt: Date;
  updatedAt: Date;
}

export type PatchPolicyInput = Omit<PatchPolicy, "id" | "organizationId" | "policyName" | "createdAt" | "updatedAt">;

const SELECT = (sql: Sql) => sql`
  select pp.id, pp.organization_id as "organizationId", pp.policy_id as "policyId", p.name as "policyName", pp.auto_approve as "autoApprove",
    pp.auto_approve_sources as "autoApproveSources", pp.deferral_days as "deferralDays", pp.pilot_group_id as "pilotGroupId",
    pp.ring_delay_days as "ringDelayDays",
    case when pp.window_cron is null then null else
      json_build_object('cron', pp.window_cron, 'durationMinutes', pp.window_duration_minutes, 'timezone', pp.window_timezone) end as window,
    pp.reboot, pp.reboot_delay_seconds as "rebootDelaySeconds", pp.exclusions, pp.scan_interval_hours as "scanIntervalHours", pp.created_at as "createdAt", pp.updated_at as "updatedAt"
  from patch_policies pp join policies p on p.id = pp.policy_id`;

export async function listPatchPolicies(sql: Sql, organizationId: string): Promise<PatchPolicy[]> {
  return sql<PatchPolicy[]>`${SELECT(sql)} where pp.organization_id = ${organizationId} order by p.name`;
}

export async function getPatchPolicy(sql: Sql, organizationId: string, id: string): Promise<PatchPolicy | undefined> {
  const [r] = await sql<PatchPolicy[]>`${SELECT(sql)} where pp.organization_id = ${organizationId} and pp.id = ${id}`;
  return r;
}

/** True when the policy and (if given) the pilot group are the organization's. */
export async function ownsPolicyAndGroup(
  sql: Sql,
  organizationId: string,
  policyId: string,
  groupId: string | null,
): Promise<{ policy: boolean; group: boolean }> {
  const [r] = await sql<{ policy: boolean; group: boolean }[]>`
    select exists (select 1 from policies where id = ${policyId} and organization_id = ${organizationId}) as policy,
      ${groupId === null} or exists (select 1 from device_groups where id = ${groupId} and organization_id = ${organizationId}) as group`;
  return r ?? { policy: false, group: false };
}

const columns = (i: PatchPolicyInput) => ({
  auto_approve: i.autoApprove,
  auto_approve_sources: i.autoApproveSources,
  deferral_days: i.deferralDays,
  pilot_group_id: i.pilotGroupId,
  ring_delay_days: i.ringDelayDays,
  window_cron: i.window?.cron ?? null,
  window_duration_minutes: i.window?.durationMinutes ?? 120,
  window_timezone: i.window?.timezone ?? "UTC",
  reboot: i.reboot,
  reboot_delay_seconds: i.rebootDelaySeconds,
  exclusions: i.exclusions,
  scan_interval_hours: i.scanIntervalHours,
});

/** Inserts patch settings for a policy (a policy holds one: a second is a unique violation, 409). */
export async function insertPatchPolicy(sql: Sql, organizationId: string, i: PatchPolicyInput): Promise<string> {
  const [r] = await sql<{ id: string }[]>`
    insert into patch_policies ${sql({ organization_id: organizationId, policy_id: i.policyId, ...columns(i) })} returning id`;
  if (!r) throw new Error("patch policy not inserted");
  return r.id;
}

export async function updatePatchPolicy(sql: Sql, organizationId: string, id: string, i: PatchPolicyInput): Promise<boolean> {
  const c = columns(i);
  const r = await sql`
    update patch_policies set ${sql(c)}, updated_at = now() where id = ${id} and organization_id = ${organizationId}`;
  return r.count > 0;
}

export async function deletePatchPolicy(sql: Sql, organizationId: string, id: string): Promise<boolean> {
  const r = await sql`delete from patch_policies where id = ${id} and organization_id = ${organizationId}`;
  return r.count > 0;
}

/** Every patch policy with a maintenance window (all organizations), for the window scheduler. */
export async function windowedPolicies(sql: Sql): Promise<PatchPolicy[]> {
  return sql<PatchPolicy[]>`${SELECT(sql)} where pp.window_cron is not null and p.enabled`;
}

/** Devices whose effective patch settings are this patch policy's, at most `max`. */
export async function policyDevices(sql: Sql, organizationId: string, patchPolicyId: string, max: number): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    select d.id from devices d
    cross join lateral (
      select pp.id from device_policy_links l join patch_policies pp on pp.policy_id = l.policy_id
      where l.device_id = d.id and l.blocked_by is null order by l.level desc, pp.created_at limit 1) pp
    where d.organization_id = ${organizationId} and pp.id = ${patchPolicyId}
    order by d.id limit ${max}`;
  return rows.map((r) => r.id);
}

/** Records a window occurrence once (several server processes: the first wins); false when already opened. */
export async function claimWindow(
  sql: Sql,
  w: { organizationId: string; patchPolicyId: string; startsAt: Date; endsAt: Date; openedBy: string },
): Promise<string | undefined> {
  const [r] = await sql<{ id: string }[]>`
    insert into patch_window_runs (organization_id, patch_policy_id, starts_at, ends_at, opened_by)
    values (${w.organizationId}, ${w.patchPolicyId}, ${w.startsAt}, ${w.endsAt}, ${w.openedBy})
    on conflict (patch_policy_id, starts_at) do nothing returning id`;
  return r?.id;
}

export async function recordWindowWork(sql: Sql, runId: string, devices: number, updates: number): Promise<void> {
  await sql`update patch_window_runs set devices = ${devices}, updates = ${updates} where id = ${runId}`;
}

/** Connected-or-not devices of the organization due a scan: never scanned or last scanned before their policy's interval (6 h without one). */
export async function devicesDueScan(sql: Sql, max: number): Promise<{ id: string; organizationId: string }[]> {
  return sql`
    select d.id, d.organization_id as "organizationId" from devices d
    left join device_patch_state s on s.device_id = d.id
    left join lateral (
      select pp.scan_interval_hours from device_policy_links l join patch_policies pp on pp.policy_id = l.policy_id
      where l.device_id = d.id and l.blocked_by is null order by l.level desc, pp.created_at limit 1) pp on true
    where d.status = 'online'
      -- the shortest interval is an hour: devices scanned within it need no policy lookup
      and (s.scanned_at is null or s.scanned_at < now() - interval '1 hour')
      and (s.scanned_at is null or s.scanned_at < now() - make_interval(hours => coalesce(pp.scan_interval_hours, 6)))
      and (s.attempted_at is null or s.attempted_at < now() - interval '10 minutes')
    order by s.scanned_at nulls first limit ${max}`;
}
