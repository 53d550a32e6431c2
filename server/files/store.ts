import type { Sql } from "postgres";
import { pageRows } from "../lib/limits.store.ts";
import type { Actor } from "../audit/actor.ts";

/** The state of a transfer: staging (an upload still arriving from the browser), queued, running, waiting (for the device to reconnect), paused, done, failed, cancelled. */
type TransferState = "staging" | "queued" | "running" | "waiting" | "paused" | "done" | "failed" | "cancelled";

export interface TransferRow {
  id: string;
  organizationId: string;
  deviceId: string;
  direction: "download" | "upload";
  path: string;
  size: number;
  sourceMtime: number | null;
  doneBytes: number;
  wireBytes: number;
  sha256: string | null;
  state: TransferState;
  error: string | null;
  elevated: boolean;
  overwrite: boolean;
  rateLimitBps: number | null;
  stagingName: string;
  actorType: Actor["type"];
  actorId: string | null;
  actorName: string | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

const columns = (sql: Sql) => sql`
  id, organization_id as "organizationId", device_id as "deviceId", direction, path, size::float8 as size,
  source_mtime as "sourceMtime", done_bytes::float8 as "doneBytes", wire_bytes::float8 as "wireBytes", sha256, state, error,
  elevated, overwrite, rate_limit_bps::float8 as "rateLimitBps", staging_name as "stagingName", actor_type as "actorType",
  actor_id as "actorId", actor_name as "actorName", created_at as "createdAt", updated_at as "updatedAt", finished_at as "finishedAt"`;

export async function insertTransfer(
  sql: Sql,
  t: Pick<
    TransferRow,
    | "id"
    | "organizationId"
    | "deviceId"
    | "direction"
    | "path"
    | "size"
    | "sourceMtime"
    | "state"
    | "elevated"
    | "overwrite"
    | "rateLimitBps"
    | "stagingName"
    | "sha256"
  > & { actor: Actor },
): Promise<TransferRow> {
  const [row] = await sql<TransferRow[]>`
    insert into file_transfers (id, organization_id, device_id, direction, path, size, source_mtime, state, elevated, overwrite,
                                rate_limit_bps, staging_name, sha256, actor_type, actor_id, actor_name)
    values (${t.id}, ${t.organizationId}, ${t.deviceId}, ${t.direction}, ${t.path}, ${t.size}, ${t.sourceMtime}, ${t.state},
            ${t.elevated}, ${t.overwrite}, ${t.rateLimitBps}, ${t.stagingName}, ${t.sha256}, ${t.actor.type}, ${t.actor.id}, ${t.actor.name})
    returning ${columns(sql)}`;
  return row as TransferRow;
}

/** A transfer of the organization (undefined for another organization's). */
export async function getTransfer(sql: Sql, organizationId: string, id: string): Promise<TransferRow | undefined> {
  const [row] = await sql<
    TransferRow[]
  >`select ${columns(sql)} from file_transfers where id = ${id} and organization_id = ${organizationId}`;
  return row;
}

/** A transfer by id alone, for the runner that owns it. */
export async function transferById(sql: Sql, id: string): Promise<TransferRow | undefined> {
  const [row] = await sql<TransferRow[]>`select ${columns(sql)} from file_transfers where id = ${id}`;
  return row;
}

/** An unfinished download of the same file as it is now (same size and modification time), to serve again instead of reading it twice. */
export async function reusableDownload(
  sql: Sql,
  deviceId: string,
  path: string,
  size: number,
  mtime: number,
  elevated: boolean,
): Promise<TransferRow | undefined> {
  const [row] = await sql<TransferRow[]>`
    select ${columns(sql)} from file_transfers
    where device_id = ${deviceId} and direction = 'download' and path = ${path} and size = ${size} and source_mtime = ${mtime}
      and elevated = ${elevated} and state in ('queued', 'running', 'waiting', 'paused', 'done')
    order by created_at desc limit 1`;
  return row;
}

/** Transfers of one device, or the actor's own across devices, newest first. */
export async function listTransfers(
  sql: Sql,
  organizationId: string,
  by: { deviceId: string } | { actorId: string },
  limit: number,
): Promise<TransferRow[]> {
  const where = "deviceId" in by ? sql`device_id = ${by.deviceId}` : sql`actor_id = ${by.actorId}`;
  const rows = pageRows(sql, limit);
  const found = await sql<TransferRow[]>`
    select ${columns(sql)} from file_transfers where organization_id = ${organizationId} and ${where}
    order by created_at desc limit ${rows.limit}`;
  return rows.take(found);
}

/** Transfers a (re)started server should carry on with. */
export async function unfinishedTransfers(sql: Sql): Promise<TransferRow[]> {
  return sql<
    TransferRow[]
  >`select ${columns(sql)} from file_transfers where state in ('queued', 'running', 'waiting') order by created_at limit 1000`;
}

/** Moves a transfer on: progress, state, checksum, error. */
export async function updateTransfer(
  sql: Sql,
  id: string,
  u: Partial<Pick<TransferRow, "doneBytes" | "wireBytes" | "state" | "sha256" | "error" | "size">>,
): Promise<void> {
  const finished = u.state === "done" || u.state === "failed" || u.state === "cancelled";
  await sql`
    update file_transfers set
      done_bytes = coalesce(${u.doneBytes ?? null}::bigint, done_bytes),
      wire_bytes = coalesce(${u.wireBytes ?? null}::bigint, wire_bytes),
      state = coalesce(${u.state ?? null}, state),
      sha256 = coalesce(${u.sha256 ?? null}, sha256),
      error = coalesce(${u.error ?? null}, error),
      size = coalesce(${u.size ?? null}::bigint, size),
      updated_at = now(),
      finished_at = case when ${finished} then now() else finished_at end
    where id = ${id}`;
}

/** Finished transfers older than the cutoff whose staged files may go (download content kept for a day). */
export async function expiredStaging(sql: Sql, before: Date): Promise<{ id: string; stagingName: string; direction: string }[]> {
  return sql`
    select id, staging_name as "stagingName", direction from file_transfers
    where state in ('done', 'failed', 'cancelled') and finished_at < ${before} limit 1000`;
}

/** Staging names still in use (unfinished, or done within the retention), for the cleanup's sweep of the directory. */
export async function liveStagingNames(sql: Sql, since: Date): Promise<Set<string>> {
  const rows = await sql<{ stagingName: string }[]>`
    select staging_name as "stagingName" from file_transfers
    where state not in ('done', 'failed', 'cancelled') or finished_at >= ${since}`;
  return new Set(rows.map((r) => r.stagingName));
}

export interface ElevationRow {
  id: string;
  deviceId: string;
  actorId: string;
  reason: string;
  createdAt: Date;
  expiresAt: Date;
}

export async function insertElevation(
  sql: Sql,
  e: { id: string; organizationId: string; deviceId: string; actor: Actor; reason: string; expiresAt: Date },
): Promise<ElevationRow> {
  const [row] = await sql<ElevationRow[]>`
    insert into file_elevations (id, organization_id, device_id, actor_type, actor_id, actor_name, reason, expires_at)
    values (${e.id}, ${e.organizationId}, ${e.deviceId}, ${e.actor.type}, ${e.actor.id}, ${e.actor.name}, ${e.reason}, ${e.expiresAt})
    returning id, device_id as "deviceId", actor_id as "actorId", reason, created_at as "createdAt", expires_at as "expiresAt"`;
  return row as ElevationRow;
}

/** The actor's elevation on the device that is still running, if any. */
export async function activeElevation(sql: Sql, actorId: string, deviceId: string, id?: string): Promise<ElevationRow | undefined> {
  const [row] = await sql<ElevationRow[]>`
    select id, device_id as "deviceId", actor_id as "actorId", reason, created_at as "createdAt", expires_at as "expiresAt"
    from file_elevations
    where actor_id = ${actorId} and device_id = ${deviceId} and expires_at > now() and ended_at is null
      and (${id ?? null}::uuid is null or id = ${id ?? null}::uuid)
    order by expires_at desc limit 1`;
  return row;
}

/** Ends the actor's elevations on the device; true when one was running. */
export async function endElevation(sql: Sql, actorId: string, deviceId: string): Promise<boolean> {
  const rows = await sql`
    update file_elevations set ended_at = now()
    where actor_id = ${actorId} and device_id = ${deviceId} and expires_at > now() and ended_at is null returning id`;
  return rows.length > 0;
}

/** Uploads waiting for a download to finish (device-to-device copies): they share its staged file's name. */
export async function chainedUploads(sql: Sql, stagingName: string): Promise<TransferRow[]> {
  return sql<TransferRow[]>`
    select ${columns(sql)} from file_transfers where direction = 'upload' and state = 'staging' and staging_name = ${stagingName}`;
}

/** Downloads already done whose chained uploads still wait (a restart between the two): to carry on at start. */
export async function doneDownloadsWithWaitingUploads(sql: Sql): Promise<TransferRow[]> {
  return sql<TransferRow[]>`
    select ${columns(sql)} from file_transfers d
    where d.direction = 'download' and d.state = 'done'
      and exists (select 1 from file_transfers u where u.direction = 'upload' and u.state = 'staging' and u.staging_name = d.staging_name)
    limit 1000`;
}

/** The default bandwidth cap of file transfers of the device's site, bytes/s (null: none set). */
export async function siteRateOf(sql: Sql, deviceId: string): Promise<number | null> {
  const [row] = await sql<{ rate: number | null }[]>`
    select s.files_rate_limit_bps::float8 as rate from devices d join sites s on s.id = d.site_id where d.id = ${deviceId}`;
  return row?.rate ?? null;
}

/**
 * Takes (or renews) the lease of a transfer for `node` until `ttlMs` from now: granted when nobody
 * holds it, this node does, the holder's lease ran out, or the holder is no longer a running node
 * (its server_nodes row went at a graceful stop). The transfer's state comes back with the grant
 * (a pause or cancel made on another node stops the runner at its next renewal); undefined when
 * another node holds it.
 */
export async function claimTransfer(sql: Sql, id: string, node: string, ttlMs: number): Promise<{ state: TransferState } | undefined> {
  const [row] = await sql<{ state: TransferState }[]>`
    update file_transfers set runner_node = ${node}, runner_until = now() + ${ttlMs} * interval '1 millisecond'
    where id = ${id}
      and (runner_node is null or runner_node = ${node} or runner_until < now()
           or not exists (select 1 from server_nodes n where n.id = file_transfers.runner_node))
    returning state`;
  return row;
}

/** Gives the lease back (the runner stopped). */
export async function releaseTransfer(sql: Sql, id: string, node: string): Promise<void> {
  await sql`update file_transfers set runner_node = null, runner_until = null where id = ${id} and runner_node = ${node}`;
}
