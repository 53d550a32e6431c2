import type { Sql } from "postgres";
import type { Actor } from "../audit/actor.ts";
import type { Reach } from "../auth/permissions.ts";
import { inReach } from "../devices/reach.store.ts";
import type { PatchScan, PendingUpdate } from "../protocol/patch.ts";

/**
 * What a technician sees of one device update: its facts, its state (pending, installing, installed,
 * failed, resolved) and its approval as the device's effective patch policy and the organization's
 * decisions make it (approved, denied, awaiting, excluded, ring_wait).
 */
export interface UpdateRow {
  id: string;
  deviceId: string;
  hostname: string;
  source: string;
  name: string;
  title: string;
  currentVersion: string | null;
  version: string;
  classification: string;
  severity: string | null;
  ids: string[];
  origin: string | null;
  sizeBytes: number | null;
  rebootRequired: boolean | null;
  state: string;
  approval: string;
  attempts: number;
  error: string | null;
  installCommandId: string | null;
  firstSeenAt: Date;
  lastSeenAt: Date;
  finishedAt: Date | null;
}

/**
 * The innermost patch settings reaching each device of the organization (or of `deviceIds`), as a CTE
 * named `eff` (inheritance as device_policy_links defines it): worked out once per query, not per update.
 */
function effectivePolicies(sql: Sql, organizationId: string, deviceIds?: readonly string[]) {
  return sql`eff as (
    select distinct on (l.device_id) l.device_id as eff_device_id, pp.*
    from device_policy_links l join patch_policies pp on pp.policy_id = l.policy_id
    where l.organization_id = ${organizationId} and l.blocked_by is null
      ${deviceIds ? sql`and l.device_id = any(${[...deviceIds]}::uuid[])` : sql``}
    order by l.device_id, l.level desc, pp.created_at)`;
}

/**
 * The approval of update `u` on its device (with `a`, the organization's decision, `da`, the decision
 * for this device alone, and `pp`, the device's effective patch settings, joined): the one definition,
 * used by the lists and the windows. A denial at either level wins. A person's approval means "install
 * at the device's next window": the deferral and the pilot ring hold back only what the policy approves
 * by itself (README, Patches).
 */
const APPROVAL = `case
  when a.decision = 'deny' or da.decision = 'deny' then 'denied'
  when exists (select 1 from unnest(pp.exclusions) x where lower(u.name) like replace(replace(lower(x), '_', '\\_'), '*', '%')) then 'excluded'
  when a.decision = 'approve' or da.decision = 'approve' then 'approved'
  when (pp.id is not null and u.classification = any(pp.auto_approve)
      and (cardinality(pp.auto_approve_sources) = 0 or u.source = any(pp.auto_approve_sources))
      and u.first_seen_at <= now() - make_interval(days => pp.deferral_days)) then
    case when pp.pilot_group_id is null
           or exists (select 1 from device_group_members m where m.group_id = pp.pilot_group_id and m.device_id = u.device_id)
           or (exists (select 1 from device_updates p join device_group_members m on m.device_id = p.device_id and m.group_id = pp.pilot_group_id
                       where p.source = u.source and p.name = u.name and p.version = u.version and p.state = 'installed'
                         and p.finished_at <= now() - make_interval(days => pp.ring_delay_days))
               and not exists (select 1 from device_updates p join device_group_members m on m.device_id = p.device_id and m.group_id = pp.pilot_group_id
                       where p.source = u.source and p.name = u.name and p.version = u.version and p.state = 'failed'))
         then 'approved' else 'ring_wait' end
  else 'awaiting' end`;

const COLUMNS = `u.id, u.device_id as "deviceId", d.hostname, u.source, u.name, u.title, u.current_version as "currentVersion", u.version,
  u.classification, u.severity, u.ids, u.origin, u.size_bytes::float8 as "sizeBytes", u.reboot_required as "rebootRequired", u.state,
  u.attempts, u.error, u.install_command_id as "installCommandId", u.first_seen_at as "firstSeenAt", u.last_seen_at as "lastSeenAt",
  u.finished_at as "finishedAt"`;

/** Records a finished scan: the device's state row, and its updates (new ones inserted, gone ones resolved). */
export async function recordScan(sql: Sql, organizationId: string, deviceId: string, scan: PatchScan, at: Date): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`
      insert into device_patch_state (device_id, organization_id) values (${deviceId}, ${organizationId})
      on conflict (device_id) do nothing`;
    await tx`
      update device_patch_state set scanned_at = ${at}, scan_duration_ms = ${scan.durationMs}, peak_rss_bytes = ${scan.peakRssBytes},
        sources = ${scan.sources}, problems = ${tx.json(scan.problems)}, last_outcome = 'ok', attempted_at = ${at}
      where device_id = ${deviceId}`;
    for (const u of scan.updates) await upsertUpdate(tx as unknown as Sql, organizationId, deviceId, u, at);
    // whatever the scan no longer reports is no longer needed (installed by hand, superseded); installs in flight are settled by their command
    await tx`
      update device_updates set state = 'resolved', finished_at = ${at}
      where device_id = ${deviceId} and state in ('pending', 'failed') and last_seen_at < ${at}`;
    await refreshCounts(tx as unknown as Sql, [deviceId]);
  });
}

async function upsertUpdate(tx: Sql, organizationId: string, deviceId: string, u: PendingUpdate, at: Date): Promise<void> {
  await tx`
    insert into device_updates (organization_id, device_id, source, name, title, current_version, version, classification, severity,
                                ids, origin, size_bytes, reboot_required, first_seen_at, last_seen_at)
    values (${organizationId}, ${deviceId}, ${u.source}, ${u.name}, ${u.title}, ${u.currentVersion}, ${u.version}, ${u.classification},
            ${u.severity}, ${u.ids}, ${u.origin}, ${u.sizeBytes}, ${u.rebootRequired}, ${at}, ${at})
    on conflict (device_id, source, name, version) do update set
      title = excluded.title, current_version = excluded.current_version, classification = excluded.classification,
      severity = excluded.severity, ids = excluded.ids, origin = excluded.origin, size_bytes = excluded.size_bytes,
      reboot_required = excluded.reboot_required, last_seen_at = excluded.last_seen_at,
      -- back after it was resolved or reported installed: pending again (a failed one stays failed until retried)
      state = case when device_updates.state in ('resolved', 'installed') then 'pending' else device_updates.state end`;
}

/** A scan that could not run: its code on the state row (the updates stay as they were). */
export async function recordScanFailure(sql: Sql, organizationId: string, deviceId: string, code: string): Promise<void> {
  await sql`
    insert into device_patch_state (device_id, organization_id, last_outcome, attempted_at) values (${deviceId}, ${organizationId}, ${code}, now())
    on conflict (device_id) do update set last_outcome = excluded.last_outcome, attempted_at = excluded.attempted_at`;
}

export interface UpdateFilter {
  deviceId?: string;
  classification?: string;
  state?: string;
  approval?: string;
  ids?: readonly string[];
  /** Words of the package name, the title or the update's CVE, KB or advisory ids (any case; KB digits alone find the KB). */
  q?: string;
}

/**
 * The filter of a search: the words anywhere in the update's name, title or ids (one lower-cased text
 * per update with a trigram index, migration 00041); a CVE id must be one of the update's ids exactly
 * (CVE-2026-1001 is not CVE-2026-10011).
 */
function searchFilter(sql: Sql, q: string | undefined) {
  if (!q) return sql``;
  const like = `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const cve = /^CVE-\d{4}-\d+$/i.test(q);
  return sql`and u.search_text like ${like}
    ${cve ? sql`and exists (select 1 from unnest(u.ids) as x(id) where upper(x.id) = ${q.toUpperCase()})` : sql``}`;
}

/** Updates of the organization the principal reaches, newest first, filtered; at most `limit`. */
export async function listUpdates(
  sql: Sql,
  organizationId: string,
  reach: Reach | null,
  f: UpdateFilter,
  limit: number,
): Promise<UpdateRow[]> {
  return sql<UpdateRow[]>`
    select ${sql.unsafe(COLUMNS)}, ${sql.unsafe(APPROVAL)} as approval
    from device_updates u
    join devices d on d.id = u.device_id
    left join patch_approvals a on a.organization_id = u.organization_id and a.source = u.source and a.name = u.name and a.version = u.version
    left join patch_device_approvals da on da.device_id = u.device_id and da.source = u.source and da.name = u.name and da.version = u.version
    -- per row, so a page read in index order stops once full (a per-query CTE made the planner hash-join every open update)
    left join lateral (
      select pp.* from device_policy_links l join patch_policies pp on pp.policy_id = l.policy_id
      where l.device_id = u.device_id and l.blocked_by is null
      order by l.level desc, pp.created_at limit 1) pp on true
    where u.organization_id = ${organizationId}
      ${f.deviceId ? sql`and u.device_id = ${f.deviceId}` : sql``}
      ${f.ids ? sql`and u.id = any(${[...f.ids]}::uuid[])` : sql``}
      ${f.classification ? sql`and u.classification = ${f.classification}` : sql``}
      ${f.state ? sql`and u.state = ${f.state}` : sql`and u.state <> 'resolved'`}
      ${f.approval ? sql`and (${sql.unsafe(APPROVAL)}) = ${f.approval}` : sql``}
      ${searchFilter(sql, f.q)}
      ${inReach(sql, reach, { id: "u.device_id", siteId: "d.site_id" })}
    -- newest first, in the order of device_updates_recent: a filtered page stops once it is full
    order by u.last_seen_at desc, u.id
    limit ${limit}`;
}

/** Records the organization's decision on these (source, name, version) keys; returns how many changed. */
export async function decide(
  sql: Sql,
  organizationId: string,
  keys: { source: string; name: string; version: string }[],
  decision: "approve" | "deny",
  actor: Actor,
): Promise<number> {
  let n = 0;
  for (const k of keys) {
    const r = await sql`
      insert into patch_approvals (organization_id, source, name, version, decision, actor_type, actor_id, actor_name)
      values (${organizationId}, ${k.source}, ${k.name}, ${k.version}, ${decision}, ${actor.type}, ${actor.id}, ${actor.name.slice(0, 320)})
      on conflict (organization_id, source, name, version) do update set decision = excluded.decision, actor_type = excluded.actor_type,
        actor_id = excluded.actor_id, actor_name = excluded.actor_name, decided_at = now()
      where patch_approvals.decision <> excluded.decision`;
    n += r.count;
  }
  return n;
}

/**
 * Records a decision for single devices (a technician limited to some clients decides for the devices
 * they reach): one row per device and version; returns how many changed.
 */
export async function decideForDevices(
  sql: Sql,
  organizationId: string,
  keys: { deviceId: string; source: string; name: string; version: string }[],
  decision: "approve" | "deny",
  actor: Actor,
): Promise<number> {
  let n = 0;
  for (const k of keys) {
    const r = await sql`
      insert into patch_device_approvals (organization_id, device_id, source, name, version, decision, actor_type, actor_id, actor_name)
      values (${organizationId}, ${k.deviceId}, ${k.source}, ${k.name}, ${k.version}, ${decision}, ${actor.type}, ${actor.id}, ${actor.name.slice(0, 320)})
      on conflict (device_id, source, name, version) do update set decision = excluded.decision, actor_type = excluded.actor_type,
        actor_id = excluded.actor_id, actor_name = excluded.actor_name, decided_at = now()
      where patch_device_approvals.decision <> excluded.decision`;
    n += r.count;
  }
  return n;
}

/** Marks updates as in this install command. */
export async function markInstalling(sql: Sql, commandId: string, updateIds: readonly string[]): Promise<void> {
  await sql`
    update device_updates set state = 'installing', install_command_id = ${commandId}, attempts = attempts + 1, error = null
    where id = any(${[...updateIds]}::uuid[])`;
}

/**
 * Settles the updates of a finished install command. After a rescan at `scannedAt`: an update the
 * rescan still reports failed, one it no longer reports is installed. Without a rescan (the device
 * went away) the command's status decides. Returns the settled rows.
 */
export async function settleInstall(
  sql: Sql,
  commandId: string,
  outcome: { scannedAt: Date | null; succeeded: boolean; error: string | null },
): Promise<{ id: string; deviceId: string; name: string; version: string; state: string }[]> {
  const installed = outcome.scannedAt ? sql`last_seen_at < ${outcome.scannedAt}` : sql`${outcome.succeeded}`;
  const settled = await sql<{ id: string; deviceId: string; name: string; version: string; state: string }[]>`
    update device_updates set state = case when ${installed} then 'installed' else 'failed' end,
      error = case when ${installed} then null else ${outcome.error ?? "the update is still pending after the install"} end,
      finished_at = now()
    where install_command_id = ${commandId} and state = 'installing'
    returning id, device_id as "deviceId", name, version, state`;
  await refreshCounts(sql, [...new Set(settled.map((s) => s.deviceId))]);
  return settled;
}

/** The install command of a device update, for settling (undefined when the command installed no updates of ours). */
export async function commandUpdates(sql: Sql, commandId: string): Promise<number> {
  const [r] = await sql<
    { n: number }[]
  >`select count(*)::int as n from device_updates where install_command_id = ${commandId} and state = 'installing'`;
  return r?.n ?? 0;
}

/** Approved updates to install now on these devices (pending or failed with attempts left), per device. */
export async function approvedForInstall(
  sql: Sql,
  organizationId: string,
  deviceIds: readonly string[],
  maxAttempts: number,
): Promise<{ id: string; deviceId: string; source: string; name: string; version: string }[]> {
  if (deviceIds.length === 0) return [];
  return sql`
    with ${effectivePolicies(sql, organizationId, deviceIds)}
    select x.id, x."deviceId", x.source, x.name, x.version from (
      select u.id, u.device_id as "deviceId", u.source, u.name, u.version, u.state, u.attempts, ${sql.unsafe(APPROVAL)} as approval
      from device_updates u
      left join patch_approvals a on a.organization_id = u.organization_id and a.source = u.source and a.name = u.name and a.version = u.version
    left join patch_device_approvals da on da.device_id = u.device_id and da.source = u.source and da.name = u.name and da.version = u.version
      left join eff pp on pp.eff_device_id = u.device_id
      where u.organization_id = ${organizationId} and u.device_id = any(${[...deviceIds]}::uuid[])
        and (u.state = 'pending' or (u.state = 'failed' and u.attempts < ${maxAttempts}))
    ) x where x.approval = 'approved'
    order by x."deviceId", x.name`;
}

/**
 * Recounts the missing updates of these devices onto their state rows (what compliance and smart
 * groups read): pending, installing and failed updates that are not denied; critical and security
 * ones, failed ones, all of them, and when the oldest critical or security one was first seen.
 */
export async function refreshCounts(sql: Sql, deviceIds: readonly string[]): Promise<void> {
  if (deviceIds.length === 0) return;
  await sql`
    update device_patch_state s set
      missing_critical = c.critical, missing_security = c.security, failed_updates = c.failed, pending_updates = c.pending,
      missing_since = c.since
    from (
      select d.id as device_id,
        count(u.id) filter (where u.classification = 'critical' and u.state <> 'failed')::int as critical,
        count(u.id) filter (where u.classification = 'security' and u.state <> 'failed')::int as security,
        count(u.id) filter (where u.state = 'failed')::int as failed,
        count(u.id)::int as pending,
        min(u.first_seen_at) filter (where u.classification in ('critical', 'security')) as since
      from unnest(${[...deviceIds]}::uuid[]) as d(id)
      left join device_updates u on u.device_id = d.id and u.state in ('pending', 'installing', 'failed')
        and not exists (select 1 from patch_approvals a where a.organization_id = u.organization_id and a.source = u.source
                          and a.name = u.name and a.version = u.version and a.decision = 'deny')
        and not exists (select 1 from patch_device_approvals da where da.device_id = u.device_id and da.source = u.source
                          and da.name = u.name and da.version = u.version and da.decision = 'deny')
      group by d.id
    ) c
    where s.device_id = c.device_id`;
}

/** Devices of the organization with an open update of one of these versions (whose counts a decision changes). */
export async function devicesWith(
  sql: Sql,
  organizationId: string,
  keys: { source: string; name: string; version: string }[],
): Promise<string[]> {
  if (keys.length === 0) return [];
  const rows = await sql<{ id: string }[]>`
    select distinct u.device_id as id from device_updates u
    join unnest(${keys.map((k) => k.source)}::text[], ${keys.map((k) => k.name)}::text[], ${keys.map((k) => k.version)}::text[]) as k(source, name, version)
      on k.source = u.source and k.name = u.name and k.version = u.version
    where u.organization_id = ${organizationId} and u.state in ('pending', 'installing', 'failed')`;
  return rows.map((r) => r.id);
}
