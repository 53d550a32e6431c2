import type { Sql } from "postgres";
import type { DeviceFacts } from "../protocol/telemetry.ts";

export interface FactsUpdate {
  id: string;
  agentVersion: string;
  facts: DeviceFacts;
}

/**
 * Host facts from many agents' hellos in one statement (a reconnect storm brings thousands a second):
 * the rows travel as one JSON array, unpacked by `jsonb_to_recordset`. Only devices whose facts differ
 * from the stored ones are locked and written (after a server restart nearly every hello repeats what
 * is stored); returns their ids.
 */
export async function updateFactsMany(sql: Sql, updates: FactsUpdate[]): Promise<string[]> {
  if (updates.length === 0) return [];
  const rows = updates.map(({ id, agentVersion, facts: f }) => ({
    id,
    hostname: f.hostname,
    os: f.os,
    os_name: f.osName,
    os_version: f.osVersion,
    kernel: f.kernel,
    arch: f.arch,
    agent_version: agentVersion,
    serial_number: f.serialNumber,
    cpu_model: f.cpuModel,
    cpu_cores: Math.min(f.cpuCores, 2 ** 31 - 1),
    memory_total_bytes: Math.min(Math.round(f.memoryTotalBytes), Number.MAX_SAFE_INTEGER),
    nics: f.nics,
    disks: f.disks,
  }));
  // rows locked in id order first, as telemetry flushes lock them: no deadlock between the two
  const changed = await sql<{ id: string }[]>`
    with v as (
      select * from jsonb_to_recordset(${sql.json(rows as never)}) as v(id uuid, hostname text, os text, os_name text,
        os_version text, kernel text, arch text, agent_version text, serial_number text, cpu_model text, cpu_cores integer,
        memory_total_bytes bigint, nics jsonb, disks jsonb)
    ),
    locked as (
      select d.id from devices d join v on v.id = d.id
      where (d.hostname, d.os, d.os_name, d.os_version, d.kernel, d.arch, d.agent_version, d.serial_number, d.cpu_model,
             d.cpu_cores, d.memory_total_bytes, d.nics, d.disks)
        is distinct from (v.hostname, v.os, v.os_name, v.os_version, v.kernel, v.arch, v.agent_version, v.serial_number,
             v.cpu_model, v.cpu_cores, v.memory_total_bytes, v.nics, v.disks)
      order by d.id for no key update of d
    )
    update devices d set hostname = v.hostname, os = v.os, os_name = v.os_name, os_version = v.os_version,
      kernel = v.kernel, arch = v.arch, agent_version = v.agent_version, serial_number = v.serial_number,
      cpu_model = v.cpu_model, cpu_cores = v.cpu_cores, memory_total_bytes = v.memory_total_bytes,
      nics = v.nics, disks = v.disks, updated_at = now()
    from v join locked on locked.id = v.id
    where d.id = v.id
    returning d.id`;
  return changed.map((r) => r.id);
}
