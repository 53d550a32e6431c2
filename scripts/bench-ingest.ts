/**
 * Ingest benchmark: rows/s through the server's ingest path (frame validation + Ingestor: replay
 * check, COPY, high-water marks) against a raw `COPY` of the same rows into the same table on the
 * same embedded PostgreSQL. Alternates the two, several rounds, and reports medians.
 *
 *   bun scripts/bench-ingest.ts --rows 200000 --devices 1000 --rounds 3
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type } from "arktype";
import postgres, { type Sql } from "postgres";
import { startEmbeddedPostgres } from "../db/embedded.ts";
import { migrate } from "../db/migrate.ts";
import { TelemetryBatch } from "../server/protocol/frames.ts";
import { Ingestor } from "../server/telemetry/ingest.ts";
import { TELEMETRY_COLUMNS, copyLine } from "../server/telemetry/rows.ts";
import { maintainPartitions } from "../server/telemetry/store.ts";
import { sample } from "../server/testing/fixtures.ts";

const { values: opt } = parseArgs({
  options: {
    rows: { type: "string", default: "200000" },
    devices: { type: "string", default: "1000" },
    rounds: { type: "string", default: "3" },
    flush: { type: "string", default: "20000" },
    concurrency: { type: "string", default: "2" },
  },
});
const rows = Number(opt.rows);
const deviceCount = Number(opt.devices);
const CHUNK = 5000;

const dir = mkdtempSync(join(tmpdir(), "sentpulse-ingest-"));
const pg = await startEmbeddedPostgres(dir);
const sql = postgres(pg.url, { max: 10, onnotice: () => {} });
try {
  await migrate(sql);
  await maintainPartitions(sql);
  const [org] = await sql<{ id: string }[]>`insert into organizations (name) values ('bench') returning id`;
  const [client] = await sql<{ id: string }[]>`insert into clients (organization_id, name) values (${org!.id}, 'c') returning id`;
  const [site] = await sql<
    { id: string }[]
  >`insert into sites (organization_id, client_id, name) values (${org!.id}, ${client!.id}, 's') returning id`;
  const devices = Array.from({ length: deviceCount }, () => Bun.randomUUIDv7());
  await sql`insert into devices (id, organization_id, site_id, hostname, os, secret_hash)
            select id, ${org!.id}, ${site!.id}, 'h', 'linux', '\\x00' from unnest(${devices}::uuid[]) as id`;

  let seqBase = 0;
  /** Frames as agents send them: one sample per batch, devices round-robin, seq rising per device. */
  const frames = (n: number) => {
    const now = Date.now();
    const out: { deviceId: string; batch: unknown }[] = [];
    for (let i = 0; i < n; i++) {
      const deviceId = devices[i % deviceCount]!;
      const seq = seqBase + Math.floor(i / deviceCount) + 1;
      out.push({ deviceId, batch: { seq, samples: [sample(new Date(now - (n - i) * 10), (i * 7) % 100)] } });
    }
    seqBase += Math.ceil(n / deviceCount) + 1;
    return out;
  };

  async function rawCopy(sqlc: Sql, n: number): Promise<number> {
    const input = frames(n).map((f) => copyLine(f.deviceId, (f.batch as TelemetryBatch).seq, (f.batch as TelemetryBatch).samples[0]!));
    const t0 = performance.now();
    for (let i = 0; i < input.length; i += CHUNK) {
      const w = await sqlc`copy device_telemetry (${sqlc([...TELEMETRY_COLUMNS])}) from stdin`.writable();
      await new Promise<void>((resolve, reject) => {
        w.on("finish", resolve);
        w.on("error", reject);
        w.end(input.slice(i, i + CHUNK).join(""));
      });
    }
    return n / ((performance.now() - t0) / 1000);
  }

  async function ingestPath(n: number): Promise<number> {
    const input = frames(n).map((f) => ({ deviceId: f.deviceId, json: JSON.stringify(f.batch) }));
    const ingest = new Ingestor(sql, {
      maxQueuedRows: n + 1,
      maxRowsPerFlush: Number(opt.flush),
      maxConcurrentFlushes: Number(opt.concurrency),
    });
    const t0 = performance.now();
    const pending: Promise<unknown>[] = [];
    for (const f of input) {
      const batch = TelemetryBatch(JSON.parse(f.json));
      if (batch instanceof type.errors) throw new Error(batch.summary);
      pending.push(ingest.submit(f.deviceId, org!.id, batch));
    }
    await Promise.all(pending);
    const rate = n / ((performance.now() - t0) / 1000);
    if (ingest.stats.stored !== n) throw new Error(`stored ${ingest.stats.stored} of ${n}`);
    return rate;
  }

  const copyRates: number[] = [];
  const ingestRates: number[] = [];
  await ingestPath(Math.min(rows, 20_000)); // warm-up (JIT, caches)
  for (let r = 0; r < Number(opt.rounds); r++) {
    copyRates.push(await rawCopy(sql, rows));
    ingestRates.push(await ingestPath(rows));
    await sql`vacuum analyze device_telemetry`;
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const copy = median(copyRates);
  const ingest = median(ingestRates);
  console.log(
    JSON.stringify(
      {
        rowsPerRound: rows,
        devices: deviceCount,
        rounds: copyRates.length,
        rawCopyRowsPerSecond: Math.round(copy),
        ingestRowsPerSecond: Math.round(ingest),
        ratio: Number((ingest / copy).toFixed(2)),
        allCopy: copyRates.map(Math.round),
        allIngest: ingestRates.map(Math.round),
      },
      null,
      2,
    ),
  );
} finally {
  await sql.end();
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
