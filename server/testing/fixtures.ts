import type { Sql } from "postgres";
import { sha256 } from "../lib/crypto.ts";
import { signingKey } from "../protocol/signing.ts";
import type { DeviceFacts, TelemetrySample } from "../protocol/telemetry.ts";

/** Plausible host facts for a simulated device. */
export function facts(hostname = `host-${crypto.randomUUID().slice(0, 8)}`, os: DeviceFacts["os"] = "linux"): DeviceFacts {
  return {
    hostname,
    os,
    osName: "Debian GNU/Linux",
    osVersion: "12",
    kernel: "6.1.0",
    arch: "x64",
    cpuModel: "Test CPU",
    cpuCores: 4,
    memoryTotalBytes: 8 * 2 ** 30,
    serialNumber: "SN-TEST",
    nics: [{ name: "eth0", mac: "02:00:00:00:00:01", addresses: ["10.0.0.2"] }],
    disks: [{ name: "sda", sizeBytes: 100 * 2 ** 30 }],
  };
}

/** A valid telemetry sample at `time` with the given CPU percent. */
export function sample(time = new Date(), cpuPercent = 12.5): TelemetrySample {
  return {
    time: time.toISOString(),
    cpuPercent,
    cpuPerCore: [cpuPercent, cpuPercent],
    load: [0.5, 0.4, 0.3],
    memoryTotalBytes: 8 * 2 ** 30,
    memoryUsedBytes: 2 * 2 ** 30,
    swapTotalBytes: 2 ** 30,
    swapUsedBytes: 0,
    mounts: [{ mount: "/", fs: "ext4", totalBytes: 100 * 2 ** 30, usedBytes: 40 * 2 ** 30, inodesTotal: 1000, inodesUsed: 10 }],
    diskReadBps: 100,
    diskWriteBps: 200,
    interfaces: [{ name: "eth0", rxBps: 1000, txBps: 500 }],
    uptimeSeconds: 3600,
    processCount: 120,
  };
}

/** A second organization with its own site, admin and device, created straight in the database. */
export async function otherOrganization(sql: Sql) {
  const [org] = await sql<{ id: string }[]>`insert into organizations (name) values ('Other MSP') returning id`;
  const [client] = await sql<{ id: string }[]>`insert into clients (organization_id, name) values (${org!.id}, 'C') returning id`;
  const [site] = await sql<
    { id: string }[]
  >`insert into sites (organization_id, client_id, name) values (${org!.id}, ${client!.id}, 'S') returning id`;
  const email = `other-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const password = "other password 123";
  await sql`insert into users (organization_id, email, name, role, password_hash)
            values (${org!.id}, ${email}, 'Other', 'owner', ${await Bun.password.hash(password)})`;
  const deviceId = Bun.randomUUIDv7();
  const secret = "other-device-secret";
  await sql`insert into devices (id, organization_id, site_id, hostname, os, secret_hash)
            values (${deviceId}, ${org!.id}, ${site!.id}, 'other-host', 'linux', ${signingKey(secret)})`;
  const [alert] = await sql<{ id: string }[]>`insert into alerts (organization_id, device_id, type, severity, state, message)
            values (${org!.id}, ${deviceId}, 'offline', 'critical', 'firing', 'x') returning id`;
  return { organizationId: org!.id, siteId: site!.id, email, password, deviceId, secret, alertId: alert!.id };
}

/** An enrollment token straight in the database (for expiry and use-count cases). */
export async function rawToken(
  sql: Sql,
  organizationId: string,
  siteId: string,
  opts: { expiresAt?: Date; maxUses?: number; uses?: number } = {},
) {
  const token = `spe_${crypto.randomUUID()}`;
  await sql`insert into enrollment_tokens (organization_id, site_id, token_hash, prefix, expires_at, max_uses, uses)
            values (${organizationId}, ${siteId}, ${sha256(token)}, 'spe_', ${opts.expiresAt ?? new Date(Date.now() + 3600_000)},
                    ${opts.maxUses ?? null}, ${opts.uses ?? 0})`;
  return token;
}

/** Row counts of every table in the public schema: a snapshot to prove a refused request left nothing behind. */
export async function tableCounts(sql: Sql): Promise<Record<string, number>> {
  const tables = await sql<{ name: string }[]>`
    select quote_ident(table_name) as name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`;
  const counts: Record<string, number> = {};
  for (const { name } of tables) {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from ${sql(name)}`;
    counts[name] = row?.n ?? 0;
  }
  return counts;
}
