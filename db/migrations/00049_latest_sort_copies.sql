-- The latest-state row is written by every telemetry flush, once per device per flush (3,800 rows a
-- second at 19,000 agents), and four of its columns were indexed for the device list's sorts (cpu,
-- memory, disk, seen_at): every update wrote five index entries and none was HOT (300,000 of 300,000 in a
-- 19,000-agent run), PostgreSQL spent 44-50 us of CPU per row instead of 25 (scripts/bench-latest-update.ts),
-- the table grew by a dead row per update until autovacuum, whose passes lined up with the run's worst
-- acknowledgement stretches (docs/benchmarks.md, session 15).
-- The sorts now walk copies of those figures (sort_cpu, sort_memory, sort_disk, sort_seen) that a flush
-- refreshes once they are 30 s old: one flush in six at 5 s writes index entries; the others change no
-- indexed column and are HOT (room on the page: fillfactor 80). The list shows the current figures and
-- orders by copies at most 30 s plus one telemetry interval old; the status sweep finds devices gone quiet
-- through sort_seen and checks seen_at itself (server/devices/status.store.ts).
alter table device_latest add column sort_cpu real, add column sort_memory real, add column sort_disk real,
  add column sort_seen timestamptz;
update device_latest set sort_cpu = cpu_percent, sort_memory = memory_percent, sort_disk = disk_percent, sort_seen = seen_at;
alter table device_latest alter column sort_cpu set not null, alter column sort_memory set not null,
  alter column sort_disk set not null, alter column sort_seen set not null;
alter table device_latest set (fillfactor = 80);

-- A new row's copies are its figures (the flush's first samples, and any other writer of a new row).
create function device_latest_sort_init() returns trigger language plpgsql as $$
begin
  new.sort_cpu := coalesce(new.sort_cpu, new.cpu_percent);
  new.sort_memory := coalesce(new.sort_memory, new.memory_percent);
  new.sort_disk := coalesce(new.sort_disk, new.disk_percent);
  new.sort_seen := coalesce(new.sort_seen, new.seen_at);
  return new;
end $$;
create trigger device_latest_sort_init before insert on device_latest for each row execute function device_latest_sort_init();

drop index device_latest_cpu;
drop index device_latest_memory;
drop index device_latest_disk;
drop index device_latest_seen;
create index device_latest_cpu on device_latest (organization_id, sort_cpu, device_id);
create index device_latest_memory on device_latest (organization_id, sort_memory, device_id);
create index device_latest_disk on device_latest (organization_id, sort_disk, device_id);
create index device_latest_seen on device_latest (organization_id, sort_seen, device_id);

-- Parameters, results and everything else as in migration 00047; only the latest-state update differs.
create or replace function telemetry_flush(
  p_devices uuid[],             -- the flush's devices, distinct
  p_batch_device int[],         -- per batch: its device's position in p_devices (1-based)
  p_batch_seq bigint[],         -- per batch: its sequence
  p_batch_gap bigint[],         -- per batch: the device's lowest refused sequence, or 0
  p_rows json,                  -- the samples (objects with `b`, the batch's position), or null: in telemetry_stage
  p_late_before timestamptz,    -- samples older than this go to telemetry_rollup_pending (null: not recorded)
  p_node uuid,                  -- this node: an unresponsive device whose socket it holds goes online (null: none does)
  p_online_since timestamptz    -- ... when its newest accepted sample is newer than this
) returns table (verdicts smallint[], marks bigint[], online int[], online_hostnames text[])
language plpgsql
set plan_cache_mode = force_generic_plan
as $$
declare
  v_marks bigint[] := array_fill(null::bigint, array[cardinality(p_devices)]);
  v_blocked boolean[] := array_fill(false, array[cardinality(p_devices)]);
  v_busy boolean[] := array_fill(false, array[cardinality(p_devices)]);
  -- per device: its mark is on its latest-state row (locked here); else, when the mark is known, a first
  -- sample's device whose row on `devices` is locked here
  v_latest boolean[] := array_fill(false, array[cardinality(p_devices)]);
  v_verdicts smallint[] := array_fill(0::smallint, array[cardinality(p_batch_seq)]);
  -- per device: unresponsive with its socket on this node (may go online)
  v_may_flip boolean[] := array_fill(false, array[cardinality(p_devices)]);
  v_first uuid[];
  v_online int[];
  v_online_names text[];
  r record;
  d int;
  m bigint;
  v_late int;
  n_device uuid[];
  n_time timestamptz[];
  n_cpu real[];
  n_memory real[];
  n_disk real[];
  n_swap real[];
  n_load1 real[];
  n_rx float8[];
  n_tx float8[];
  n_uptime bigint[];
begin
  -- the marks of devices that have sent samples, locked in key order; their status read, not locked
  for r in
    select u.ord, l.batch_seq, coalesce(dv.status = 'unresponsive' and dv.ws_node = p_node, false) as may_flip
    from device_latest l
    join unnest(p_devices) with ordinality as u(id, ord) on l.device_id = u.id
    join devices dv on dv.id = l.device_id
    order by l.device_id
    for no key update of l skip locked
  loop
    v_marks[r.ord] := r.batch_seq;
    v_latest[r.ord] := true;
    v_may_flip[r.ord] := r.may_flip;
  end loop;

  -- the others (rare): a device's first samples (its mark on `devices`, that row locked so no other flush
  -- writes its first samples too), a latest-state row another transaction holds, or an unknown device
  if array_position(v_marks, null) is not null then
    for r in
      select u.ord, dv.last_batch_seq, coalesce(dv.status = 'unresponsive' and dv.ws_node = p_node, false) as may_flip
      from devices dv join unnest(p_devices, v_marks) with ordinality as u(id, mark, ord) on dv.id = u.id
      where u.mark is null
      order by dv.id
      for no key update of dv skip locked
    loop
      v_marks[r.ord] := r.last_batch_seq;
      v_may_flip[r.ord] := r.may_flip;
    end loop;
    -- a new statement sees what committed before these locks: a device whose latest-state row exists now
    -- (held by another flush, or written by one that held its device row) is busy
    for r in
      select u.ord from unnest(p_devices, v_marks, v_latest) with ordinality as u(id, mark, latest, ord)
      where u.mark is not null and not u.latest and exists (select 1 from device_latest l where l.device_id = u.id)
    loop
      v_marks[r.ord] := null;
    end loop;
    for r in
      select u.ord from unnest(p_devices, v_marks) with ordinality as u(id, mark, ord)
      where u.mark is null and exists (select 1 from devices dv where dv.id = u.id)
    loop
      v_busy[r.ord] := true;
    end loop;
  end if;

  for i in 1 .. coalesce(cardinality(p_batch_seq), 0) loop
    d := p_batch_device[i];
    m := v_marks[d];
    if v_busy[d] then
      v_verdicts[i] := 3;
    elsif m is null or p_batch_seq[i] <= m then
      v_verdicts[i] := 0;
    elsif v_blocked[d] or (p_batch_gap[i] > m and p_batch_gap[i] < p_batch_seq[i]) then
      v_verdicts[i] := 2;
      v_blocked[d] := true;
    else
      v_verdicts[i] := 1;
      v_marks[d] := p_batch_seq[i];
    end if;
  end loop;

  -- The accepted rows go in; what the other writes need comes back narrow (no wide row is kept or
  -- sorted). Every step is a join or a sort, no subscript or sub-select per row: a flush of thousands
  -- of batches after a stall costs in proportion, not in its square.
  if p_rows is not null then
    with accepted as (
      select b.ord::int as b, u.id as device_id, b.seq
      from unnest(p_batch_device, p_batch_seq, v_verdicts) with ordinality as b(dev, seq, verdict, ord)
      join unnest(p_devices) with ordinality as u(id, ord) on u.ord = b.dev
      where b.verdict = 1
    ),
    stored as (
      insert into device_telemetry (time, device_id, batch_seq, cpu_percent, cpu_per_core, load1, load5, load15,
      memory_total_bytes, memory_used_bytes, memory_percent, swap_total_bytes, swap_used_bytes, swap_percent,
      disk_total_bytes, disk_used_bytes, disk_percent, disk_read_bps, disk_write_bps, network_rx_bps, network_tx_bps,
      uptime_seconds, process_count, mounts, interfaces)
      select x.time, a.device_id, a.seq, x.cpu_percent, x.cpu_per_core, x.load1, x.load5, x.load15, x.memory_total_bytes,
      x.memory_used_bytes, x.memory_percent, x.swap_total_bytes, x.swap_used_bytes, x.swap_percent, x.disk_total_bytes,
      x.disk_used_bytes, x.disk_percent, x.disk_read_bps, x.disk_write_bps, x.network_rx_bps, x.network_tx_bps,
      x.uptime_seconds, x.process_count, x.mounts, x.interfaces
      from json_to_recordset(p_rows) as x(b int, time timestamptz, cpu_percent real, cpu_per_core real[], load1 real,
        load5 real, load15 real, memory_total_bytes bigint, memory_used_bytes bigint, memory_percent real,
        swap_total_bytes bigint, swap_used_bytes bigint, swap_percent real, disk_total_bytes bigint, disk_used_bytes bigint,
        disk_percent real, disk_read_bps float8, disk_write_bps float8, network_rx_bps float8, network_tx_bps float8,
        uptime_seconds bigint, process_count integer, mounts jsonb, interfaces jsonb)
      join accepted a on a.b = x.b
      returning device_id, time, cpu_percent, memory_percent, disk_percent, swap_percent, load1, network_rx_bps,
        network_tx_bps, uptime_seconds
    )
    select array_agg(device_id), array_agg(time), array_agg(cpu_percent), array_agg(memory_percent),
      array_agg(disk_percent), array_agg(swap_percent), array_agg(load1), array_agg(network_rx_bps),
      array_agg(network_tx_bps), array_agg(uptime_seconds)
    into n_device, n_time, n_cpu, n_memory, n_disk, n_swap, n_load1, n_rx, n_tx, n_uptime
    from stored;
  else
    -- a bulk flush (a spool replayed after an outage): its rows were copied into this session's
    -- telemetry_stage in the same transaction (COPY parses them faster than JSON)
    with accepted as (
      select b.ord::int as b, u.id as device_id, b.seq
      from unnest(p_batch_device, p_batch_seq, v_verdicts) with ordinality as b(dev, seq, verdict, ord)
      join unnest(p_devices) with ordinality as u(id, ord) on u.ord = b.dev
      where b.verdict = 1
    ),
    stored as (
      insert into device_telemetry (time, device_id, batch_seq, cpu_percent, cpu_per_core, load1, load5, load15,
      memory_total_bytes, memory_used_bytes, memory_percent, swap_total_bytes, swap_used_bytes, swap_percent,
      disk_total_bytes, disk_used_bytes, disk_percent, disk_read_bps, disk_write_bps, network_rx_bps, network_tx_bps,
      uptime_seconds, process_count, mounts, interfaces)
      select x.time, a.device_id, a.seq, x.cpu_percent, x.cpu_per_core, x.load1, x.load5, x.load15, x.memory_total_bytes,
      x.memory_used_bytes, x.memory_percent, x.swap_total_bytes, x.swap_used_bytes, x.swap_percent, x.disk_total_bytes,
      x.disk_used_bytes, x.disk_percent, x.disk_read_bps, x.disk_write_bps, x.network_rx_bps, x.network_tx_bps,
      x.uptime_seconds, x.process_count, x.mounts, x.interfaces
      from telemetry_stage x
      join accepted a on a.b = x.b
      returning device_id, time, cpu_percent, memory_percent, disk_percent, swap_percent, load1, network_rx_bps,
        network_tx_bps, uptime_seconds
    )
    select array_agg(device_id), array_agg(time), array_agg(cpu_percent), array_agg(memory_percent),
      array_agg(disk_percent), array_agg(swap_percent), array_agg(load1), array_agg(network_rx_bps),
      array_agg(network_tx_bps), array_agg(uptime_seconds)
    into n_device, n_time, n_cpu, n_memory, n_disk, n_swap, n_load1, n_rx, n_tx, n_uptime
    from stored;
    -- the stage is kept across commits (`on commit preserve rows`, see ingest.store.ts): emptied here,
    -- in the flush's own transaction, so the next flush reads only its own rows
    delete from telemetry_stage;
  end if;

  with stored as (
    select * from unnest(n_device, n_time, n_cpu, n_memory, n_disk, n_swap, n_load1, n_rx, n_tx, n_uptime)
      as s(device_id, time, cpu_percent, memory_percent, disk_percent, swap_percent, load1, network_rx_bps,
        network_tx_bps, uptime_seconds)
  ),
  -- each device's newest accepted sample
  newest as (
    select distinct on (x.device_id) x.* from stored x order by x.device_id, x.time desc
  ),
  -- the locked latest-state rows: mark and contact; the newest sample where it is newer than the row's
  -- (an older one, from a late spool, leaves it)
  -- The sort columns (the only indexed ones but the keys) are copied from the new figures once their
  -- copy is 30 s old, and otherwise written with their own values: then no index changes and the
  -- update is HOT.
  kept as (
    update device_latest l set batch_seq = u.mark, seen_at = now(),
      time = case when n.time >= l.time then n.time else l.time end,
      cpu_percent = case when n.time >= l.time then n.cpu_percent else l.cpu_percent end,
      memory_percent = case when n.time >= l.time then n.memory_percent else l.memory_percent end,
      disk_percent = case when n.time >= l.time then n.disk_percent else l.disk_percent end,
      sort_seen = case when l.sort_seen <= now() - interval '30 seconds' then now() else l.sort_seen end,
      sort_cpu = case when l.sort_seen > now() - interval '30 seconds' then l.sort_cpu
        when n.time >= l.time then n.cpu_percent else l.cpu_percent end,
      sort_memory = case when l.sort_seen > now() - interval '30 seconds' then l.sort_memory
        when n.time >= l.time then n.memory_percent else l.memory_percent end,
      sort_disk = case when l.sort_seen > now() - interval '30 seconds' then l.sort_disk
        when n.time >= l.time then n.disk_percent else l.disk_percent end,
      swap_percent = case when n.time >= l.time then n.swap_percent else l.swap_percent end,
      load1 = case when n.time >= l.time then n.load1 else l.load1 end,
      network_rx_bps = case when n.time >= l.time then n.network_rx_bps else l.network_rx_bps end,
      network_tx_bps = case when n.time >= l.time then n.network_tx_bps else l.network_tx_bps end,
      uptime_seconds = case when n.time >= l.time then n.uptime_seconds else l.uptime_seconds end
    from unnest(p_devices, v_marks, v_latest) as u(id, mark, latest)
    left join newest n on n.device_id = u.id
    where l.device_id = u.id and u.latest
  ),
  -- a device's first samples: its latest-state row (its device row is locked here, so no other flush
  -- writes one); its sort columns are its figures (device_latest_sort_init)
  created as (
    insert into device_latest (device_id, organization_id, batch_seq, time, seen_at, cpu_percent, memory_percent,
      disk_percent, swap_percent, load1, network_rx_bps, network_tx_bps, uptime_seconds)
    select n.device_id, dv.organization_id, u.mark, n.time, now(), n.cpu_percent, n.memory_percent, n.disk_percent,
      n.swap_percent, n.load1, n.network_rx_bps, n.network_tx_bps, n.uptime_seconds
    from unnest(p_devices, v_marks, v_latest) as u(id, mark, latest)
    join newest n on n.device_id = u.id
    join devices dv on dv.id = u.id
    where not u.latest and u.mark is not null
    order by n.device_id
  ),
  -- unresponsive devices held here whose newest sample is recent go online; a device row another
  -- transaction holds is left to the status sweep
  flip as (
    select dv.id, u.ord from devices dv
    join unnest(p_devices, v_may_flip) with ordinality as u(id, may_flip, ord) on dv.id = u.id
    join newest n on n.device_id = u.id
    where u.may_flip and n.time > p_online_since and dv.status = 'unresponsive' and dv.ws_node = p_node
    order by dv.id
    for no key update of dv skip locked
  ),
  went as (
    update devices dv set status = 'online', status_changed_at = now()
    from flip f where dv.id = f.id
    returning f.ord, dv.hostname
  )
  select (select count(*) filter (where x.time < p_late_before) from stored x),
    (select array_agg(w.ord::int) from went w),
    (select array_agg(w.hostname) from went w)
  into v_late, v_online, v_online_names;

  -- hours of late samples (rare: a spool sent after an outage), for the native rollup job; key order,
  -- so overlapping flushes never deadlock
  if v_late > 0 then
    insert into telemetry_rollup_pending (device_id, bucket)
    select distinct s.device_id, date_bin('1 hour', s.time, timestamptz 'epoch')
    from unnest(n_device, n_time) as s(device_id, time)
    where s.time < p_late_before
    order by 1, 2
    on conflict do nothing;
  end if;

  verdicts := v_verdicts;
  marks := v_marks;
  online := coalesce(v_online, '{}');
  online_hostnames := coalesce(v_online_names, '{}');
  return next;
end $$;
