import type { Sql } from "postgres";
import type { DeviceFacts } from "../protocol/telemetry.ts";

export interface FactsUpdate {
  id: string;
  agentVersion: string;
  facts: DeviceFacts;
}

/**
 * Host facts from many agents' hellos in one statement (a reconnect storm brings thousands a second):
 * the rows travel as one JSON array, unpacked by `jsonb_to_recordset`.
 */
export async function updateFactsMany(sql: Sql, updates: FactsUpdate[]): Promise<void> {
  if (updates.length === 0) return;
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
  await sql`
    with locked as (select id from devices where id = any(${updates.map((u) => u.id)}::uuid[]) order by id for no key update)
    update devices d set hostname = v.hostname, os = v.os, os_name = v.os_name, os_version = v.os_version,
      kernel = v.kernel, arch = v.arch, agent_version = v.agent_version, serial_number = v.serial_number,
      cpu_model = v.cpu_model, cpu_cores = v.cpu_cores, memory_total_bytes = v.memory_total_bytes,
      nics = v.nics, disks = v.disks, updated_at = now()
    from jsonb_to_recordset(${sql.json(rows as never)}) as v(id uuid, hostname text, os text, os_name text, os_version text,
      kernel text, arch text, agent_version text, serial_number text, cpu_model text, cpu_cores integer,
      memory_total_bytes bigint, nics jsonb, disks jsonb)
    join locked on locked.id = v.id
    where d.id = v.id`;
}
