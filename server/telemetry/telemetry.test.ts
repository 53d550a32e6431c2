import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Sql } from "postgres";
import type { StatusChange } from "../devices/status.store.ts";
import { device, organization, sample } from "../testing/fixtures.ts";
import { testSql } from "../testing/harness.ts";
import { Ingestor } from "./ingest.ts";
import { copyLine, summarize } from "./rows.ts";
import { maintainPartitions, refreshRollup, telemetryRange } from "./store.ts";

let sql: Sql;
let deviceId: string;
let orgId: string;
let siteId: string;
beforeAll(async () => {
  sql = await testSql();
  await maintainPartitions(sql);
  const org = await organization(sql);
  orgId = org.organizationId;
  siteId = org.siteId;
  deviceId = await device(sql, { ...org, hostname: "h" });
}, 120_000);
afterAll(() => sql.end());

describe("rows", () => {
  test("summaries: fullest mount, summed interfaces, memory percent", () => {
    const s = sample();
    s.mounts.push({ mount: "/data", fs: "xfs", totalBytes: 100, usedBytes: 95 });
    s.interfaces.push({ name: "wlan0", rxBps: 10, txBps: 20 });
    const sum = summarize(s);
    expect(sum.diskPercent).toBe(95);
    expect(sum.networkRxBps).toBe(1010);
    expect(sum.memoryPercent).toBe(25);
  });

  test("COPY text escapes tabs, newlines and backslashes in mount names", async () => {
    const s = sample();
    s.mounts = [{ mount: "C:\\Users\tweird\nname", fs: "ntfs", totalBytes: 10, usedBytes: 5 }];
    const line = copyLine(deviceId, 999_999, s);
    expect(line.split("\t").length).toBe(25);
    expect(line.endsWith("\n")).toBe(true);
    const w = await sql`copy device_telemetry from stdin`.writable();
    await new Promise<void>((resolve, reject) => {
      w.on("finish", resolve);
      w.on("error", reject);
      w.end(line);
    });
    const [row] = await sql`select mounts from device_telemetry where batch_seq = 999999`;
    expect(row?.mounts[0].mount).toBe("C:\\Users\tweird\nname");
    await sql`delete from device_telemetry where batch_seq = 999999`;
    await sql`update devices set last_batch_seq = 0 where id = ${deviceId}`;
  });
});

/** Another transaction holding the rows `lock` locks until the returned function is called (and its commit awaited). */
async function holdRows(lock: (t: Sql) => Promise<unknown>): Promise<() => Promise<void>> {
  let release = () => {};
  const released = new Promise<void>((r) => {
    release = r;
  });
  let holding = () => {};
  const held = new Promise<void>((r) => {
    holding = r;
  });
  const tx = sql.begin(async (t) => {
    await lock(t as unknown as Sql);
    holding();
    await released;
  });
  await held;
  return async () => {
    release();
    await tx;
  };
}

describe("ingest", () => {
  test("in-order batches are stored once; replays and batches for unknown devices are not", async () => {
    const ingest = new Ingestor(sql);
    const results = await Promise.all([
      ingest.submit(deviceId, orgId, { seq: 1, samples: [sample()] }),
      ingest.submit(deviceId, orgId, { seq: 2, samples: [sample(), sample()] }),
      ingest.submit(deviceId, orgId, { seq: 2, samples: [sample()] }),
      ingest.submit(Bun.randomUUIDv7(), orgId, { seq: 1, samples: [sample()] }),
    ]);
    expect(results.map((r) => r.stored)).toEqual([true, true, false, false]);
    const [n] = await sql<{ n: number }[]>`select count(*)::int as n from device_telemetry where device_id = ${deviceId}`;
    expect(n?.n).toBe(3);
    expect(ingest.stats.duplicates).toBe(2);
  });

  test("overlapping flushes keep each device's batches in order: every one of them is stored", async () => {
    const ingest = new Ingestor(sql, { maxRowsPerFlush: 500, maxConcurrentFlushes: 2, maxQueuedRows: 100_000 });
    const busy = await device(sql, { organizationId: orgId, siteId, hostname: "busy" });
    const quiet = await device(sql, { organizationId: orgId, siteId, hostname: "quiet" });
    // a device's later batches wait for the flush carrying its earlier ones; another device's go beside it
    const results = await Promise.all(
      Array.from({ length: 5000 }, (_, i) =>
        ingest.submit(i % 10 === 0 ? quiet : busy, orgId, { seq: Math.floor(i / (i % 10 === 0 ? 10 : 1)) + 1, samples: [sample()] }),
      ),
    );
    expect(results.filter((r) => r.stored).length).toBe(5000);
    expect(ingest.stats.held).toBe(0);
    expect(ingest.stats.flushes).toBeGreaterThanOrEqual(10);
    const marks = await sql<
      { seq: number }[]
    >`select l.batch_seq::int as seq from devices d join device_latest l on l.device_id = d.id where d.id in (${busy}, ${quiet}) order by d.hostname`;
    expect(marks.map((m) => m.seq)).toEqual([5000, 500]);
  });

  test("a burst is shared between the free flush slots, and a batch arriving while one flush runs takes the other", async () => {
    const ingest = new Ingestor(sql, { maxConcurrentFlushes: 2 });
    const org = await organization(sql);
    const devices = await Promise.all(Array.from({ length: 40 }, (_, i) => device(sql, { ...org, hostname: `burst-${i}` })));
    // 40 batches in one tick: two flushes of 20 at once, not one of 40 beside an idle slot
    const burst = await Promise.all(devices.map((d) => ingest.submit(d, org.organizationId, { seq: 1, samples: [sample()] })));
    expect(burst.every((r) => r.stored)).toBe(true);
    expect(ingest.stats.flushes).toBe(2);
    // one device's spool is not cut in halves written one after the other: one flush
    const spool = await Promise.all(
      Array.from({ length: 100 }, (_, i) => ingest.submit(devices[2] ?? "", org.organizationId, { seq: i + 2, samples: [sample()] })),
    );
    expect(spool.every((r) => r.stored)).toBe(true);
    expect(ingest.stats.flushes).toBe(3);
    // a flush held in the database (a sample the test's trigger sleeps on) does not hold back a batch sent after it
    await sql.unsafe(`
      create function test_slow_marked() returns trigger language plpgsql as $$
      begin if new.cpu_percent = 42.5 then perform pg_sleep(0.5); end if; return new; end $$;
      create trigger test_slow_marked before insert or update on device_latest for each row execute function test_slow_marked();`);
    try {
      const order: string[] = [];
      const slow = ingest.submit(devices[0] ?? "", org.organizationId, { seq: 2, samples: [{ ...sample(), cpuPercent: 42.5 }] });
      void slow.then(() => order.push("slow"));
      await Bun.sleep(50);
      await ingest.submit(devices[1] ?? "", org.organizationId, { seq: 2, samples: [sample()] });
      order.push("later");
      expect((await slow).stored).toBe(true);
      expect(order).toEqual(["later", "slow"]);
    } finally {
      await sql.unsafe("drop trigger test_slow_marked on device_latest; drop function test_slow_marked();");
    }
  });

  test("a mark held by another transaction does not hold back the flush: its batch waits, the others are stored", async () => {
    const ingest = new Ingestor(sql);
    const [first, latestHeld, rowHeld, free] = await Promise.all(
      ["first-locked", "latest-held", "row-held", "free"].map((hostname) => device(sql, { organizationId: orgId, siteId, hostname })),
    );
    // two of them have sent samples before (their marks are on their latest-state rows)
    for (const id of [latestHeld!, rowHeld!]) expect((await ingest.submit(id, orgId, { seq: 1, samples: [sample()] })).stored).toBe(true);
    // other transactions in flight: on the device row of a device without samples (its mark is there),
    // on a latest-state row, and on the device row of a device with samples (a status change: the
    // flush does not need that row)
    const release = await holdRows(async (t) => {
      await t`select 1 from devices where id in (${first!}, ${rowHeld!}) for update`;
      await t`select 1 from device_latest where device_id = ${latestHeld!} for update`;
    });
    const slow = [
      ingest.submit(first!, orgId, { seq: 1, samples: [sample()] }),
      ingest.submit(latestHeld!, orgId, { seq: 2, samples: [sample()] }),
    ];
    const fast = await Promise.all([
      ingest.submit(free!, orgId, { seq: 1, samples: [sample()] }),
      ingest.submit(rowHeld!, orgId, { seq: 2, samples: [sample()] }),
    ]);
    expect(fast.map((r) => r.stored)).toEqual([true, true]);
    let settled = 0;
    for (const p of slow)
      void p.then(() => {
        settled++;
      });
    await Bun.sleep(100);
    expect(settled).toBe(0);
    expect(ingest.stats.busy).toBeGreaterThanOrEqual(2);
    await release();
    expect((await Promise.all(slow)).map((r) => r.stored)).toEqual([true, true]);
    const marks = await sql<{ hostname: string; seq: number }[]>`
      select d.hostname, l.batch_seq::int as seq from devices d join device_latest l on l.device_id = d.id
      where d.id in (${first!}, ${latestHeld!}, ${rowHeld!}, ${free!}) order by d.hostname`;
    expect([...marks]).toEqual([
      { hostname: "first-locked", seq: 1 },
      { hostname: "free", seq: 1 },
      { hostname: "latest-held", seq: 2 },
      { hostname: "row-held", seq: 2 },
    ]);
  });

  test("a bulk flush (a spool after an outage) goes through the COPY stage: stored once, replays and unknown devices not", async () => {
    // one slot: the whole spool in one flush (two would share it)
    const ingest = new Ingestor(sql, { maxRowsPerFlush: 20_000, maxConcurrentFlushes: 1 });
    const devices = await Promise.all(
      Array.from({ length: 4 }, (_, i) => device(sql, { organizationId: orgId, siteId, hostname: `bulk-${i}` })),
    );
    const t0 = Date.now() - 3_600_000;
    const batches = devices.flatMap((id, d) =>
      Array.from({ length: 400 }, (_, i) => ({ id, batch: { seq: i + 1, samples: [sample(new Date(t0 + i * 5_000), d * 10 + 1)] } })),
    );
    // one replay of a batch in the same flush, and an unknown device
    const all = [...batches, { id: devices[0]!, batch: batches[0]!.batch }, { id: Bun.randomUUIDv7(), batch: batches[1]!.batch }];
    const results = await Promise.all(all.map((b) => ingest.submit(b.id, orgId, b.batch)));
    expect(results.filter((r) => r.stored).length).toBe(1600);
    expect(ingest.stats.flushes).toBe(1);
    // per device: rows stored, the latest state's CPU figure and the mark
    const stored = async () => [
      ...(await sql<{ n: number; latest: number; mark: number }[]>`
      select (select count(*)::int from device_telemetry t where t.device_id = d.id) as n,
        (select cpu_percent::int from device_latest l where l.device_id = d.id) as latest,
        (select batch_seq::int from device_latest l where l.device_id = d.id) as mark
      from devices d where d.id = any(${devices}::uuid[]) order by d.hostname`),
    ];
    expect(await stored()).toEqual(devices.map((_, d) => ({ n: 400, latest: d * 10 + 1, mark: 400 })));
    // the next bulk flushes read only their own rows from the stage (kept across commits, emptied by each flush)
    for (let round = 1; round <= 3; round++) {
      const more = devices.flatMap((id, d) =>
        Array.from({ length: 100 }, (_, i) => ({
          id,
          batch: {
            seq: 400 + (round - 1) * 100 + i + 1,
            samples: [sample(new Date(t0 + (300 + round * 100 + i) * 5_000), d * 10 + round + 1)],
          },
        })),
      );
      expect((await Promise.all(more.map((b) => ingest.submit(b.id, orgId, b.batch)))).every((r) => r.stored)).toBe(true);
    }
    expect(ingest.stats.flushes).toBe(4);
    expect(await stored()).toEqual(devices.map((_, d) => ({ n: 700, latest: d * 10 + 4, mark: 700 })));
  });

  test("the flush that stores a held device's first recent sample sets it online (JSON and COPY flushes); other devices keep their status", async () => {
    const node = Bun.randomUUIDv7();
    const other = Bun.randomUUIDv7();
    const announced: StatusChange[] = [];
    const ingest = new Ingestor(sql, { status: { nodeId: node, onlineWindowS: 30, announce: (c) => void announced.push(...c) } });
    const make = async (name: string, status: string, wsNode: string | null) => {
      const id = await device(sql, { organizationId: orgId, siteId, hostname: name });
      await sql`update devices set status = ${status}, ws_node = ${wsNode}, last_seen_at = now() where id = ${id}`;
      return id;
    };
    const held = await make("flip-held", "unresponsive", node);
    const elsewhere = await make("flip-elsewhere", "unresponsive", other);
    const offline = await make("flip-offline", "offline", node);
    const stale = await make("flip-stale", "unresponsive", node);
    const bulk = await make("flip-bulk", "unresponsive", node);
    const stamp = async (id: string) =>
      (await sql<{ status: string; changed: Date }[]>`select status, status_changed_at as changed from devices where id = ${id}`)[0];
    const before = await stamp(held);
    await Promise.all([
      ingest.submit(held, orgId, { seq: 1, samples: [sample()] }),
      ingest.submit(elsewhere, orgId, { seq: 1, samples: [sample()] }),
      ingest.submit(offline, orgId, { seq: 1, samples: [sample()] }),
      // a spool's old sample: not evidence that the device is alive now
      ingest.submit(stale, orgId, { seq: 1, samples: [sample(new Date(Date.now() - 3_600_000))] }),
    ]);
    expect(announced).toEqual([{ id: held, organizationId: orgId, hostname: "flip-held", previous: "unresponsive", status: "online" }]);
    expect((await stamp(held))?.status).toBe("online");
    expect((await stamp(held))?.changed.getTime()).toBeGreaterThan(before!.changed.getTime());
    for (const [id, status] of [
      [elsewhere, "unresponsive"],
      [offline, "offline"],
      [stale, "unresponsive"],
    ] as const)
      expect((await stamp(id))?.status).toBe(status);
    // already online: nothing announced again
    await ingest.submit(held, orgId, { seq: 2, samples: [sample()] });
    expect(announced.length).toBe(1);
    // a device that has sent samples before (its mark on its latest-state row): its recent sample sets it
    // online the same way; its old one did not
    expect((await ingest.submit(stale, orgId, { seq: 2, samples: [sample()] })).stored).toBe(true);
    expect(announced.map((c) => c.id)).toEqual([held, stale]);
    expect((await stamp(stale))?.status).toBe("online");
    // ... unless another transaction holds its device row: the sample is stored, the status left to the sweep
    const busy = await make("flip-busy", "unresponsive", node);
    await ingest.submit(busy, orgId, { seq: 1, samples: [sample(new Date(Date.now() - 3_600_000))] });
    const release = await holdRows((t) => t`select 1 from devices where id = ${busy} for update`);
    expect((await ingest.submit(busy, orgId, { seq: 2, samples: [sample()] })).stored).toBe(true);
    await release();
    expect((await stamp(busy))?.status).toBe("unresponsive");
    expect(announced.length).toBe(2);
    announced.splice(1);
    // a flush large enough for the COPY stage sets online the same way
    const spool = Array.from({ length: 60 }, (_, i) => ({ seq: i + 1, samples: [sample(new Date(Date.now() - (60 - i) * 1_000))] }));
    await Promise.all(spool.map((b) => ingest.submit(bulk, orgId, b)));
    expect(announced.map((c) => c.id)).toEqual([held, bulk]);
    expect((await stamp(bulk))?.status).toBe("online");
  });

  test("the list's sort copies of a device's figures follow them once 30 s old; in between only the figures move", async () => {
    const ingest = new Ingestor(sql);
    const id = await device(sql, { organizationId: orgId, siteId, hostname: "sort-copies" });
    const latest = async () =>
      (
        await sql<{ cpu: number; sortCpu: number; seenMoved: boolean; sortSeenAgeS: number }[]>`
        select cpu_percent::int as cpu, sort_cpu::int as "sortCpu", seen_at > now() - interval '5 seconds' as "seenMoved",
          extract(epoch from now() - sort_seen)::int as "sortSeenAgeS"
        from device_latest where device_id = ${id}`
      )[0];
    // the first sample: the copies are its figures
    expect((await ingest.submit(id, orgId, { seq: 1, samples: [sample(new Date(Date.now() - 10_000), 40)] })).stored).toBe(true);
    expect(await latest()).toEqual({ cpu: 40, sortCpu: 40, seenMoved: true, sortSeenAgeS: 0 });
    // within 30 s: the figure and the contact move, the copies stay
    expect((await ingest.submit(id, orgId, { seq: 2, samples: [sample(new Date(Date.now() - 5_000), 70)] })).stored).toBe(true);
    expect(await latest()).toMatchObject({ cpu: 70, sortCpu: 40 });
    // copies 31 s old: the next flush refreshes them from the newest figures
    await sql`update device_latest set sort_seen = now() - interval '31 seconds' where device_id = ${id}`;
    expect((await ingest.submit(id, orgId, { seq: 3, samples: [sample(new Date(), 90)] })).stored).toBe(true);
    expect(await latest()).toEqual({ cpu: 90, sortCpu: 90, seenMoved: true, sortSeenAgeS: 0 });
    // a late sample (older than the row's) moves neither the figures nor, when due, the copies
    await sql`update device_latest set sort_seen = now() - interval '31 seconds' where device_id = ${id}`;
    expect((await ingest.submit(id, orgId, { seq: 4, samples: [sample(new Date(Date.now() - 60_000), 5)] })).stored).toBe(true);
    expect(await latest()).toEqual({ cpu: 90, sortCpu: 90, seenMoved: true, sortSeenAgeS: 0 });
  });

  test("samples older than the 7-day retention are acknowledged and dropped", async () => {
    const ingest = new Ingestor(sql);
    const r = await ingest.submit(deviceId, orgId, { seq: 10, samples: [sample(new Date(Date.now() - 8 * 86_400_000))] });
    expect(r.stored).toBe(true);
    expect(ingest.stats.dropped).toBe(1);
  });

  test("a failed flush holds its device's later batches back (acks are cumulative): nothing acknowledged is lost", async () => {
    // one batch per flush, two flushes at once: batch 2 fails (a sample PostgreSQL refuses), batch 3
    // rides in the flush beside it and batch 4 comes after; acknowledging 3 or 4 would make the agent
    // forget 2, so both are refused until 2 comes again
    const ingest = new Ingestor(sql, { maxRowsPerFlush: 1, maxConcurrentFlushes: 2 });
    const dev = await device(sql, { organizationId: orgId, siteId, hostname: "flaky" });
    expect((await ingest.submit(dev, orgId, { seq: 1, samples: [sample()] })).stored).toBe(true);
    // the database refuses the flush that carries a marked sample (a trigger of this test's own)
    await sql.unsafe(`
      create function test_refuse_marked() returns trigger language plpgsql as $$
      begin if new.cpu_percent = 42.5 then raise exception 'refused by the test'; end if; return new; end $$;
      create trigger test_refuse_marked before insert or update on device_latest for each row execute function test_refuse_marked();`);
    try {
      const [two, three] = await Promise.allSettled([
        ingest.submit(dev, orgId, { seq: 2, samples: [{ ...sample(), cpuPercent: 42.5 }] }),
        ingest.submit(dev, orgId, { seq: 3, samples: [sample()] }),
      ]);
      expect(two).toMatchObject({ status: "rejected", reason: { message: "refused by the test" } });
      expect(three).toMatchObject({ status: "rejected", reason: { code: "INGEST_BUSY" } });
      await expect(ingest.submit(dev, orgId, { seq: 4, samples: [sample()] })).rejects.toMatchObject({ code: "INGEST_BUSY" });
    } finally {
      await sql.unsafe("drop trigger test_refuse_marked on device_latest; drop function test_refuse_marked();");
    }
    const [mark] = await sql<{ seq: number }[]>`select batch_seq::int as seq from device_latest where device_id = ${dev}`;
    expect(mark?.seq).toBe(1);
    // the agent reconnects and sends from its oldest unacknowledged batch: every one is stored, in order
    const again = await Promise.all([2, 3, 4].map((seq) => ingest.submit(dev, orgId, { seq, samples: [sample()] })));
    expect(again.map((r) => r.stored)).toEqual([true, true, true]);
    const [n] = await sql<{ n: number }[]>`select count(distinct batch_seq)::int as n from device_telemetry where device_id = ${dev}`;
    expect(n?.n).toBe(4);
    expect(ingest.stats.held).toBeGreaterThanOrEqual(2);
  });

  test("a batch refused by a full queue holds the device's later batches back too", async () => {
    const ingest = new Ingestor(sql, { maxQueuedRows: 2, maxDelayMs: 200, maxRowsPerFlush: 100 });
    const dev = await device(sql, { organizationId: orgId, siteId, hostname: "crowded" });
    const first = ingest.submit(dev, orgId, { seq: 1, samples: [sample(), sample()] });
    await expect(ingest.submit(dev, orgId, { seq: 2, samples: [sample()] })).rejects.toMatchObject({ code: "INGEST_BUSY" });
    expect((await first).stored).toBe(true);
    await expect(ingest.submit(dev, orgId, { seq: 3, samples: [sample()] })).rejects.toMatchObject({ code: "INGEST_BUSY" });
    expect((await ingest.submit(dev, orgId, { seq: 2, samples: [sample()] })).stored).toBe(true);
    expect((await ingest.submit(dev, orgId, { seq: 3, samples: [sample()] })).stored).toBe(true);
  });

  test("the queue is bounded: beyond it submit refuses with INGEST_BUSY", async () => {
    const ingest = new Ingestor(sql, { maxQueuedRows: 2, maxDelayMs: 1000, maxRowsPerFlush: 100 });
    const first = ingest.submit(deviceId, orgId, { seq: 20, samples: [sample(), sample()] });
    await expect(ingest.submit(deviceId, orgId, { seq: 21, samples: [sample()] })).rejects.toMatchObject({ code: "INGEST_BUSY" });
    await ingest.drain();
    expect((await first).stored).toBe(true);
  });
});

describe("rollup and partitions (native engine)", () => {
  test("hourly rollup matches the raw rows and long ranges read it", async () => {
    // ten minutes into an hour: each hour's two samples (a minute apart) share their bucket whatever the clock says
    // (from a start in an hour's last minute, the second sample fell in the next hour's bucket)
    const base = Math.floor((Date.now() - 30 * 3600_000) / 3600_000) * 3600_000 + 600_000;
    const ingest = new Ingestor(sql);
    for (let h = 0; h < 24; h++) {
      await ingest.submit(deviceId, orgId, {
        seq: 100 + h,
        samples: [sample(new Date(base + h * 3600_000), 10), sample(new Date(base + h * 3600_000 + 60_000), 30)],
      });
    }
    await refreshRollup(sql, new Date(base - 3600_000));
    const range = await telemetryRange(sql, deviceId, new Date(base - 3600_000), new Date(base + 25 * 3600_000), 3600);
    expect(range.source).toBe("rollup");
    const total = range.points.reduce((n, p) => n + p.samples, 0);
    expect(total).toBe(48);
    expect(range.points.every((p) => Math.abs(p.cpuPercent - 20) < 0.01)).toBe(true);
  });

  test("maintenance creates daily partitions ahead and is idempotent", async () => {
    const again = await maintainPartitions(sql);
    expect(again.created).toBe(0);
    const [row] = await sql<{ n: number }[]>`
      select count(*)::int as n from pg_inherits i join pg_class p on p.oid = i.inhparent where p.relname = 'device_telemetry'`;
    expect(row?.n).toBeGreaterThanOrEqual(11);
  });
});

describe("ingest replays across overlapping flushes", () => {
  test("two nodes given the same batches at once store each batch once (the second finds it under the mark)", async () => {
    const dev = await device(sql, { organizationId: orgId, siteId, hostname: "replay" });
    // two ingestors stand for two server nodes receiving the same batches (socket and beacon)
    const a = new Ingestor(sql);
    const b = new Ingestor(sql);
    const batches = Array.from({ length: 50 }, (_, i) => ({ seq: i + 1, samples: [sample(new Date(Date.now() - (50 - i) * 1000))] }));
    const results = await Promise.all(batches.flatMap((batch) => [a.submit(dev, orgId, batch), b.submit(dev, orgId, batch)]));
    expect(results.filter((r) => r.stored).length).toBe(50);
    const [row] = await sql<{ n: number; distinct: number }[]>`
      select count(*)::int as n, count(distinct batch_seq)::int as distinct from device_telemetry where device_id = ${dev}`;
    expect(row).toEqual({ n: 50, distinct: 50 });
  });
});
