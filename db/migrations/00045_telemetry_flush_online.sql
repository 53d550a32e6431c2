-- Telemetry flushes set a device online. A device whose socket this node holds and that was
-- unresponsive (its socket open, no recent telemetry: every device right after it connects) becomes
-- online in the same row update that records its first accepted batch, instead of in a separate status
-- transaction afterwards (one per 200 ms, ~100 devices each while a fleet connects, contending with the
-- flushes for the same rows). Other changes (offline → online, which resolves an alert; anything about
-- devices held elsewhere) stay with the status sweep.
--
-- New parameters: p_node (this node: only sockets it holds count; null: no status is set) and
-- p_online_since (the newest sample must be newer than this, as the sweep's online window asks).
-- New results: online, the positions (1-based) in p_devices of the devices this flush set online, and
-- online_hostnames, their hostnames (no nulls: an array of text with nulls does not come back clean).
drop function telemetry_flush(uuid[], int[], bigint[], bigint[], json, timestamptz);

create function telemetry_flush(
  p_devices uuid[],             -- the flush's devices, distinct
  p_batch_device int[],         -- per batch: its device's position in p_devices (1-based)
  p_batch_seq bigint[],         -- per batch: its sequence
  p_batch_gap bigint[],         -- per batch: the device's lowest refused sequence, or 0 (no nulls: a flat array
                                -- with nulls is read in linear time per element)
  p_rows json,                  -- the samples: objects with `b` (the batch's position, 1-based) and the columns;
                                -- null: they are in telemetry_stage (a bulk flush, copied in this transaction)
  p_late_before timestamptz,    -- samples older than this go to telemetry_rollup_pending (null: not recorded)
  p_node uuid,                  -- this node: an unresponsive device whose socket it holds goes online (null: none does)
  p_online_since timestamptz    -- ... when its newest accepted sample is newer than this
) returns table (verdicts smallint[], marks bigint[], online int[], online_hostnames text[])
language plpgsql as $$
declare
  v_marks bigint[] := array_fill(null::bigint, array[cardinality(p_devices)]);
  v_blocked boolean[] := array_fill(false, array[cardinality(p_devices)]);
  v_busy boolean[] := array_fill(false, array[cardinality(p_devices)]);
  v_verdicts smallint[] := array_fill(0::smallint, array[cardinality(p_batch_seq)]);
  -- per device: unresponsive with its socket on this node (may go online)
  v_may_flip boolean[] := array_fill(false, array[cardinality(p_devices)]);
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
  for r in
    select u.ord, dv.last_batch_seq, coalesce(dv.status = 'unresponsive' and dv.ws_node = p_node, false) as may_flip
    from devices dv join unnest(p_devices) with ordinality as u(id, ord) on dv.id = u.id
    order by dv.id
    for no key update of dv skip locked
  loop
    v_marks[r.ord] := r.last_batch_seq;
    v_may_flip[r.ord] := r.may_flip;
  end loop;
  -- not locked: unknown, or held by another transaction (rare: only then is this read made)
  if array_position(v_marks, null) is not null then
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
  end if;

  with stored as (
    select * from unnest(n_device, n_time, n_cpu, n_memory, n_disk, n_swap, n_load1, n_rx, n_tx, n_uptime)
      as s(device_id, time, cpu_percent, memory_percent, disk_percent, swap_percent, load1, network_rx_bps,
        network_tx_bps, uptime_seconds)
  ),
  -- marks, latest sample time and last contact of every locked device; online for an unresponsive one
  -- held here whose newest sample is recent
  contact as (
    update devices dv set last_batch_seq = u.mark, last_telemetry_at = greatest(dv.last_telemetry_at, t.newest),
      last_seen_at = now(),
      status = case when u.may_flip and t.newest > p_online_since then 'online' else dv.status end,
      status_changed_at = case when u.may_flip and t.newest > p_online_since then now() else dv.status_changed_at end
    from unnest(p_devices, v_marks, v_may_flip) with ordinality as u(id, mark, may_flip, ord)
    left join (select x.device_id, max(x.time) as newest from stored x group by x.device_id) t on t.device_id = u.id
    where dv.id = u.id and u.mark is not null
    returning u.ord, u.may_flip and dv.status = 'online' as went_online, dv.hostname
  ),
  -- the device list's latest-state row: the newest accepted sample; an older one (a late spool) leaves it
  latest as (
    insert into device_latest as l (device_id, organization_id, time, seen_at, cpu_percent, memory_percent, disk_percent,
      swap_percent, load1, network_rx_bps, network_tx_bps, uptime_seconds)
    select n.device_id, dv.organization_id, n.time, now(), n.cpu_percent, n.memory_percent, n.disk_percent, n.swap_percent,
      n.load1, n.network_rx_bps, n.network_tx_bps, n.uptime_seconds
    from (select distinct on (x.device_id) x.* from stored x order by x.device_id, x.time desc) as n
    join devices dv on dv.id = n.device_id
    order by n.device_id
    on conflict (device_id) do update set seen_at = excluded.seen_at,
      time = case when excluded.time >= l.time then excluded.time else l.time end,
      cpu_percent = case when excluded.time >= l.time then excluded.cpu_percent else l.cpu_percent end,
      memory_percent = case when excluded.time >= l.time then excluded.memory_percent else l.memory_percent end,
      disk_percent = case when excluded.time >= l.time then excluded.disk_percent else l.disk_percent end,
      swap_percent = case when excluded.time >= l.time then excluded.swap_percent else l.swap_percent end,
      load1 = case when excluded.time >= l.time then excluded.load1 else l.load1 end,
      network_rx_bps = case when excluded.time >= l.time then excluded.network_rx_bps else l.network_rx_bps end,
      network_tx_bps = case when excluded.time >= l.time then excluded.network_tx_bps else l.network_tx_bps end,
      uptime_seconds = case when excluded.time >= l.time then excluded.uptime_seconds else l.uptime_seconds end
  )
  select (select count(*) filter (where x.time < p_late_before) from stored x),
    (select array_agg(c.ord::int) from contact c where c.went_online),
    (select array_agg(c.hostname) from contact c where c.went_online)
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
