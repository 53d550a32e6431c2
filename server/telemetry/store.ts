import type { PendingQuery, Row, Sql } from "postgres";
import type { Engine } from "../../db/index.ts";

export interface TelemetryPoint {
  time: Date;
  cpuPercent: number;
  cpuPercentMax: number;
  memoryPercent: number;
  swapPercent: number;
  diskPercent: number;
  load1: number;
  networkRxBps: number;
  networkTxBps: number;
  diskReadBps: number;
  diskWriteBps: number;
  samples: number;
}

/** Ranges longer than this read the hourly rollup instead of raw rows. */
const RAW_RANGE_LIMIT_MS = 48 * 3600 * 1000;

/**
 * Points for one device between `from` and `to`, averaged into buckets of `bucketSeconds`
 * (`date_bin` works on PostgreSQL 14+ with or without TimescaleDB). Long ranges or hourly
 * buckets read the rollup.
 */
export async function telemetryRange(
  sql: Sql,
  deviceId: string,
  from: Date,
  to: Date,
  bucketSeconds: number,
): Promise<{ points: TelemetryPoint[]; source: "raw" | "rollup" }> {
  const useRollup = to.getTime() - from.getTime() > RAW_RANGE_LIMIT_MS || bucketSeconds >= 3600;
  const bucket = `${Math.max(1, Math.round(bucketSeconds))} seconds`;
  if (!useRollup) {
    const points = await sql<TelemetryPoint[]>`
      select date_bin(${bucket}::interval, time, 'epoch') as time,
        avg(cpu_percent)::float8 as "cpuPercent", max(cpu_percent)::float8 as "cpuPercentMax",
        avg(memory_percent)::float8 as "memoryPercent", avg(swap_percent)::float8 as "swapPercent",
        avg(disk_percent)::float8 as "diskPercent", avg(load1)::float8 as load1,
        avg(network_rx_bps)::float8 as "networkRxBps", avg(network_tx_bps)::float8 as "networkTxBps",
        avg(disk_read_bps)::float8 as "diskReadBps", avg(disk_write_bps)::float8 as "diskWriteBps",
        count(*)::int as samples
      from device_telemetry
      where device_id = ${deviceId} and time >= ${from} and time < ${to}
      group by 1 order by 1`;
    return { points, source: "raw" };
  }
  const hourly = `${Math.max(3600, Math.round(bucketSeconds / 3600) * 3600)} seconds`;
  const points = await sql<TelemetryPoint[]>`
    select date_bin(${hourly}::interval, bucket, 'epoch') as time,
      (sum(cpu_percent * samples) / sum(samples))::float8 as "cpuPercent", max(cpu_percent_max)::float8 as "cpuPercentMax",
      (sum(memory_percent * samples) / sum(samples))::float8 as "memoryPercent",
      (sum(swap_percent * samples) / sum(samples))::float8 as "swapPercent",
      (sum(disk_percent * samples) / sum(samples))::float8 as "diskPercent",
      (sum(load1 * samples) / sum(samples))::float8 as load1,
      (sum(network_rx_bps * samples) / sum(samples))::float8 as "networkRxBps",
      (sum(network_tx_bps * samples) / sum(samples))::float8 as "networkTxBps",
      (sum(disk_read_bps * samples) / sum(samples))::float8 as "diskReadBps",
      (sum(disk_write_bps * samples) / sum(samples))::float8 as "diskWriteBps",
      sum(samples)::int as samples
    from device_telemetry_1h
    where device_id = ${deviceId} and bucket >= ${from} and bucket < ${to}
    group by 1 order by 1`;
  return { points, source: "rollup" };
}

const DAY_MS = 24 * 3600 * 1000;

function partitionName(day: Date): string {
  return `device_telemetry_${day.toISOString().slice(0, 10).replaceAll("-", "")}`;
}

/**
 * Native engine only: daily partitions from 8 days back to 2 days ahead exist, partitions past
 * the 7-day retention are dropped, and rollups older than a year are deleted.
 */
export async function maintainPartitions(sql: Sql, now = new Date()): Promise<{ created: number; dropped: number }> {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  let created = 0;
  for (let d = -8; d <= 2; d++) {
    const start = new Date(today + d * DAY_MS);
    const end = new Date(start.getTime() + DAY_MS);
    const name = partitionName(start);
    const [exists] = await sql`select 1 from pg_class where relname = ${name}`;
    if (exists) continue;
    await sql.unsafe(
      `create table if not exists ${name} partition of device_telemetry for values from ('${start.toISOString()}') to ('${end.toISOString()}')`,
    );
    created++;
  }
  const cutoff = partitionName(new Date(today - 8 * DAY_MS));
  const old = await sql<{ name: string }[]>`
    select c.relname as name from pg_inherits i
    join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
    where p.relname = 'device_telemetry' and c.relname < ${cutoff} and c.relname ~ '^device_telemetry_[0-9]{8}$'`;
  for (const { name } of old) await sql.unsafe(`drop table if exists ${name}`);
  await sql`delete from device_telemetry_1h where bucket < now() - interval '1 year'`;
  return { created, dropped: old.length };
}

/**
 * The native engine's hourly rollup, defined once (TimescaleDB's is the continuous aggregate of
 * migration 00003): recomputes the hours of the raw rows `t` that `from` yields (after `prefix`, a
 * `with` clause or nothing), as an upsert, so running it twice is harmless. Returns the hours written.
 */
async function rollup(sql: Sql, prefix: PendingQuery<Row[]>, from: PendingQuery<Row[]>): Promise<number> {
  const rows = await sql`
    ${prefix}
    insert into device_telemetry_1h (bucket, device_id, samples, cpu_percent, cpu_percent_max, memory_percent,
      memory_percent_max, swap_percent, disk_percent, disk_percent_max, load1, network_rx_bps, network_tx_bps,
      disk_read_bps, disk_write_bps)
    select date_bin('1 hour', t.time, 'epoch'), t.device_id, count(*), avg(t.cpu_percent), max(t.cpu_percent),
      avg(t.memory_percent), max(t.memory_percent), avg(t.swap_percent), avg(t.disk_percent), max(t.disk_percent), avg(t.load1),
      avg(t.network_rx_bps), avg(t.network_tx_bps), avg(t.disk_read_bps), avg(t.disk_write_bps)
    from ${from}
    group by 1, 2
    on conflict (device_id, bucket) do update set samples = excluded.samples, cpu_percent = excluded.cpu_percent,
      cpu_percent_max = excluded.cpu_percent_max, memory_percent = excluded.memory_percent,
      memory_percent_max = excluded.memory_percent_max, swap_percent = excluded.swap_percent,
      disk_percent = excluded.disk_percent, disk_percent_max = excluded.disk_percent_max, load1 = excluded.load1,
      network_rx_bps = excluded.network_rx_bps, network_tx_bps = excluded.network_tx_bps,
      disk_read_bps = excluded.disk_read_bps, disk_write_bps = excluded.disk_write_bps
    returning 1`;
  return rows.count;
}

/** Native engine only: rolls up again every hour with samples since `since`. */
export async function refreshRollup(sql: Sql, since: Date): Promise<number> {
  return rollup(sql, sql``, sql`device_telemetry t where t.time >= date_bin('1 hour', ${since}::timestamptz, 'epoch')`);
}

/**
 * Native engine only: rolls up again the device hours that got late samples (recorded by the
 * ingest in `telemetry_rollup_pending`), taking them off the list in the same statement.
 */
async function rollupLateHours(sql: Sql): Promise<number> {
  return rollup(
    sql,
    sql`with pending as (delete from telemetry_rollup_pending returning device_id, bucket)`,
    sql`pending p join device_telemetry t
      on t.device_id = p.device_id and t.time >= p.bucket and t.time < p.bucket + interval '1 hour'`,
  );
}

/**
 * Deletes a device's raw telemetry, inside the transaction that deletes the device (its hourly rows
 * go with the device row: a foreign key on the native engine, a trigger on TimescaleDB, 00015).
 */
export async function deleteDeviceTelemetry(sql: Sql, deviceId: string): Promise<void> {
  await sql`delete from device_telemetry where device_id = ${deviceId}`;
}

/** Samples older than this when stored are late: the ingest records their hours for `rollupLateHours`. */
export const LATE_AFTER_MS = 3600 * 1000;

/**
 * Background jobs per engine: TimescaleDB runs its own policies; the native engine needs ours.
 * Each run re-rolls the last two hours (the job runs every 5 minutes, so every sample younger
 * than `LATE_AFTER_MS` when stored is covered) and the hours that got late samples.
 */
export function telemetryJobs(sql: Sql, engine: Engine) {
  return {
    intervalMs: 5 * 60 * 1000,
    async run(): Promise<void> {
      if (engine !== "native") return;
      await maintainPartitions(sql);
      await refreshRollup(sql, new Date(Date.now() - 2 * LATE_AFTER_MS));
      await rollupLateHours(sql);
    },
  };
}
