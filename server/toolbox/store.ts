import type { Sql } from "postgres";
import type { DeviceFacts } from "../protocol/telemetry.ts";
import type { Scope } from "../rules/store.ts";
import type { Reading } from "./health-readings.ts";

/** A device's interfaces and status, as Wake-on-LAN needs them. */
export interface WakeDevice {
  id: string;
  hostname: string;
  status: string;
  nics: DeviceFacts["nics"];
}

/** The device (in the organization) and every online device of the organization that may relay, at most 5,000. */
export async function wakeCandidates(
  sql: Sql,
  organizationId: string,
  deviceId: string,
): Promise<{ target?: WakeDevice; online: WakeDevice[] }> {
  const [target] = await sql<WakeDevice[]>`
    select id, hostname, status, coalesce(nics, '[]'::jsonb) as nics from devices where id = ${deviceId} and organization_id = ${organizationId}`;
  const online = await sql<WakeDevice[]>`
    select d.id, d.hostname, d.status, coalesce(d.nics, '[]'::jsonb) as nics
    from devices d left join device_latest l on l.device_id = d.id
    where d.organization_id = ${organizationId} and d.status = 'online' and d.id <> ${deviceId}
    order by greatest(d.last_seen_at, l.seen_at) desc nulls last limit 5000`;
  return { target, online };
}

/** The devices of a site of the organization with the client each belongs to (for client scope); undefined when no such site. */
export async function siteDevices(
  sql: Sql,
  organizationId: string,
  siteId: string,
  max: number,
): Promise<{ clientId: string; ids: string[] } | undefined> {
  const [site] = await sql<{ clientId: string }[]>`
    select client_id as "clientId" from sites where id = ${siteId} and organization_id = ${organizationId}`;
  if (!site) return undefined;
  const rows = await sql<{ id: string }[]>`
    select id from devices where site_id = ${siteId} and organization_id = ${organizationId} order by hostname limit ${max}`;
  return { clientId: site.clientId, ids: rows.map((r) => r.id) };
}

/** A Wake-on-LAN request as recorded. */
export interface WakeRow {
  id: string;
  relayDeviceId: string | null;
  relayHostname: string | null;
  actorName: string | null;
  macs: string[];
  broadcasts: string[];
  outcome: string;
  requestedAt: Date;
  onlineAt: Date | null;
}

/** Records one wake request (sent through a relay, or the code of why not). */
export async function recordWake(
  sql: Sql,
  w: {
    organizationId: string;
    deviceId: string;
    relayDeviceId: string | null;
    actor: { type: string; id: string | null; name: string | null };
    macs: string[];
    broadcasts: string[];
    outcome: string;
  },
): Promise<void> {
  await sql`
    insert into device_wakes (organization_id, device_id, relay_device_id, actor_type, actor_id, actor_name, macs, broadcasts, outcome)
    values (${w.organizationId}, ${w.deviceId}, ${w.relayDeviceId}, ${w.actor.type}, ${w.actor.id}, ${w.actor.name},
            ${w.macs}, ${w.broadcasts}, ${w.outcome})`;
}

/** Devices came online at `at`: wakes sent to them in the half hour before are marked as answered. */
export async function markWoken(sql: Sql, deviceIds: string[], at: Date): Promise<number> {
  if (deviceIds.length === 0) return 0;
  const rows = await sql`
    update device_wakes set online_at = ${at}
    where device_id = any(${deviceIds}::uuid[]) and online_at is null and outcome = 'sent'
      and requested_at between ${at}::timestamptz - interval '30 minutes' and ${at}`;
  return rows.count;
}

/** A device's wake requests, newest first. */
export async function listWakes(sql: Sql, organizationId: string, deviceId: string, limit: number): Promise<WakeRow[]> {
  return sql<WakeRow[]>`
    select w.id::text, w.relay_device_id as "relayDeviceId", r.hostname as "relayHostname", w.actor_name as "actorName",
           w.macs, w.broadcasts, w.outcome, w.requested_at as "requestedAt", w.online_at as "onlineAt"
    from device_wakes w left join devices r on r.id = w.relay_device_id
    where w.organization_id = ${organizationId} and w.device_id = ${deviceId}
    order by w.requested_at desc, w.id desc limit ${limit}`;
}

/** The enabled health alert rules (what the health watch must read, and where). */
export async function healthRules(sql: Sql): Promise<{ organizationId: string; metric: string; service: string | null; scope: Scope }[]> {
  return sql<{ organizationId: string; metric: string; service: string | null; scope: Scope }[]>`
    select organization_id as "organizationId", metric, service, scope
    from alert_rules
    where enabled and metric in ('service_state', 'disk_failing', 'temperature_c', 'antivirus_disabled', 'antivirus_definitions_age_days')
    order by organization_id limit 10000`;
}

/** The online devices of these organizations (in id order), at most `max`. */
export async function onlineDevicesOf(sql: Sql, organizationIds: string[], max: number): Promise<{ id: string; organizationId: string }[]> {
  if (organizationIds.length === 0) return [];
  return sql<{ id: string; organizationId: string }[]>`
    select id, organization_id as "organizationId" from devices
    where organization_id = any(${organizationIds}::uuid[]) and status = 'online' order by id limit ${max}`;
}

/** Stores a health report's readings (time series, kept HEALTH_READINGS_DAYS); a repeat of the same instant is ignored. */
export async function recordHealthReadings(sql: Sql, deviceId: string, at: Date, readings: Reading[]): Promise<void> {
  if (readings.length === 0) return;
  await sql`
    insert into device_health_readings (device_id, time, kind, subject, value)
    select ${deviceId}, ${at}, kind, subject, value
    from unnest(${readings.map((r) => r.kind)}::text[], ${readings.map((r) => r.subject)}::text[], ${readings.map((r) => r.value)}::float8[])
      as r(kind, subject, value)
    on conflict do nothing`;
}

/** How long health readings are kept, days. */
const HEALTH_READINGS_DAYS = 90;

/** Drops health readings older than HEALTH_READINGS_DAYS. */
export async function dropOldHealthReadings(sql: Sql, now: Date): Promise<number> {
  const r = await sql`delete from device_health_readings where time < ${now}::timestamptz - make_interval(days => ${HEALTH_READINGS_DAYS})`;
  return r.count;
}

/** A subject's readings of one kind: min, max, latest and how many, with the points (time ms, value; the last 2,000). */
export interface HealthSeries {
  subject: string;
  min: number;
  max: number;
  latest: number;
  latestAt: Date;
  count: number;
  points: [number, number][];
}

/** One kind of a device's health readings since `since`, per subject (at most 200 subjects). */
export async function healthHistory(sql: Sql, deviceId: string, kind: string, since: Date): Promise<HealthSeries[]> {
  const rows = await sql<HealthSeries[]>`
    select subject, min(value) as min, max(value) as max,
           (array_agg(value order by time desc))[1] as latest, max(time) as "latestAt", count(*)::int as count,
           json_agg(json_build_array((extract(epoch from time) * 1000)::bigint, value) order by time) as points
    from device_health_readings
    where device_id = ${deviceId} and kind = ${kind} and time >= ${since}
    group by subject order by subject limit 200`;
  return rows.map((r) => ({ ...r, points: r.points.slice(-2000) }));
}
