import type { Sql } from "postgres";
import type { TestServer } from "./harness.ts";
import { sha256 } from "../lib/crypto.ts";
import { signingKey } from "../protocol/signing.ts";
import type { DeviceFacts, TelemetrySample } from "../protocol/telemetry.ts";

/**
 * The one fixtures module: small factories for test data, through the API where one exists, straight
 * in the database where a test needs a state the API does not make (another tenant, a dead letter, a
 * command in a given state).
 */

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

/** An organization with one client and one site, straight in the database. */
export async function organization(sql: Sql, name = "Test MSP"): Promise<{ organizationId: string; siteId: string }> {
  const [org] = await sql<{ id: string }[]>`insert into organizations (name) values (${name}) returning id`;
  const [client] = await sql<{ id: string }[]>`insert into clients (organization_id, name) values (${org!.id}, 'C') returning id`;
  const [site] = await sql<
    { id: string }[]
  >`insert into sites (organization_id, client_id, name) values (${org!.id}, ${client!.id}, 'S') returning id`;
  return { organizationId: org!.id, siteId: site!.id };
}

/** A device row with the given state (no agent behind it); its id. */
export async function device(
  sql: Sql,
  d: {
    organizationId: string;
    siteId: string;
    id?: string;
    hostname?: string;
    os?: "linux" | "windows" | "darwin";
    tags?: string[];
    /**
     * Marks it online and connected to this server node, with a sample of now in its latest-state row
     * (`latest`'s figures, else zeros): the status engine then keeps it online for the online window.
     */
    onlineOn?: string;
    latest?: { cpuPercent: number; memoryPercent: number; diskPercent: number };
    secret?: string;
  },
): Promise<string> {
  const id = d.id ?? Bun.randomUUIDv7();
  const now = d.onlineOn ? new Date() : null;
  await sql`
    insert into devices (id, organization_id, site_id, hostname, os, secret_hash, tags, status, ws_node, last_seen_at)
    values (${id}, ${d.organizationId}, ${d.siteId}, ${d.hostname ?? `host-${id.slice(-6)}`}, ${d.os ?? "linux"},
            ${d.secret ? signingKey(d.secret) : Buffer.from([0])}, ${d.tags ?? []}, ${d.onlineOn ? "online" : "offline"},
            ${d.onlineOn ?? null}, ${now})`;
  if (now) {
    const f = d.latest ?? { cpuPercent: 0, memoryPercent: 0, diskPercent: 0 };
    await sql`
      insert into device_latest (device_id, organization_id, time, seen_at, cpu_percent, memory_percent, disk_percent,
        swap_percent, load1, network_rx_bps, network_tx_bps, uptime_seconds)
      values (${id}, ${d.organizationId}, ${now}, ${now}, ${f.cpuPercent}, ${f.memoryPercent}, ${f.diskPercent}, 0, 0, 0, 0, 0)`;
  }
  return id;
}

/** A firing alert on a device; its id. */
export async function alert(sql: Sql, deviceId: string, a: { type?: string; severity?: string; message?: string } = {}): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    insert into alerts (organization_id, device_id, type, severity, state, message)
    select organization_id, id, ${a.type ?? "cpu_high"}, ${a.severity ?? "critical"}, 'firing', ${a.message ?? "CPU high"}
    from devices where id = ${deviceId} returning id`;
  return row!.id;
}

/** A library script of an organization; its id. */
export async function script(sql: Sql, organizationId: string, name = "a script"): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    insert into scripts (organization_id, name, language, content) values (${organizationId}, ${name}, 'sh', 'true') returning id`;
  return row!.id;
}

/** A notification channel (its sealed config is a placeholder: never delivered from); its id. */
export async function notificationChannel(sql: Sql, organizationId: string): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    insert into notification_channels (organization_id, name, type, config_encrypted)
    values (${organizationId}, ${`channel-${crypto.randomUUID().slice(0, 8)}`}, 'webhook', 'x') returning id`;
  return row!.id;
}

/** A notification in the outbox: `dead` (a dead letter) or `pending` (due in a day); its id. */
export async function notification(sql: Sql, organizationId: string, channelId: string, status: "dead" | "pending"): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    insert into notification_outbox (organization_id, channel_id, event, payload, status, next_attempt_at)
    values (${organizationId}, ${channelId}, 'alert.firing', '{}', ${status}, now() + interval '1 day') returning id`;
  return row!.id;
}

/** A command row in the given state, as if queued earlier; its id. */
export async function command(
  sql: Sql,
  organizationId: string,
  deviceId: string,
  status: "queued" | "running" | "succeeded",
): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    insert into commands (organization_id, device_id, type, status) values (${organizationId}, ${deviceId}, 'run_script', ${status})
    returning id`;
  return row!.id;
}

/** A recorded terminal session; its id. */
export async function terminalSession(sql: Sql, organizationId: string, deviceId: string): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    insert into terminal_sessions (id, organization_id, device_id, cols, rows)
    values (${Bun.randomUUIDv7()}, ${organizationId}, ${deviceId}, 80, 24) returning id`;
  return row!.id;
}

/** A second organization with its own site, owner, device (with a known secret) and firing alert. */
export async function otherOrganization(sql: Sql) {
  const { organizationId, siteId } = await organization(sql, "Other MSP");
  const email = `other-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const password = "other password 123";
  await sql`insert into users (organization_id, email, name, role, password_hash)
            values (${organizationId}, ${email}, 'Other', 'owner', ${await Bun.password.hash(password)})`;
  const secret = "other-device-secret";
  const deviceId = await device(sql, { organizationId, siteId, hostname: "other-host", secret });
  const alertId = await alert(sql, deviceId, { type: "offline", message: "x" });
  return { organizationId, siteId, email, password, deviceId, secret, alertId };
}

/** Creates an enrollment token through the API and returns the token string. */
export async function createToken(srv: TestServer, body: Record<string, unknown> = {}): Promise<string> {
  const res = await srv.api("/api/v1/enrollment-tokens", { body });
  if (res.status !== 201) throw new Error(`token creation failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** A device enrolled through the agent enrollment API (no agent process), into `siteId` when given: its id, secret and organization. */
export async function enrollDevice(
  srv: TestServer,
  hostname: string,
  tags: string[] = [],
  siteId?: string,
): Promise<{ deviceId: string; secret: string; organizationId: string }> {
  const token = await createToken(srv, siteId ? { siteId } : {});
  const res = await fetch(`${srv.url}/api/agent/v1/enroll`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token, agentVersion: "1.0.0", facts: facts(hostname), tags }),
  });
  if (res.status !== 201 && res.status !== 200) throw new Error(`enrollment failed: ${res.status} ${await res.text()}`);
  const enrolled = (await res.json()) as { deviceId: string; secret: string };
  const [row] = await srv.sql<
    { organizationId: string }[]
  >`select organization_id as "organizationId" from devices where id = ${enrolled.deviceId}`;
  return { ...enrolled, organizationId: row!.organizationId };
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

/** A finished file transfer of the device (server/files); its id. */
export async function fileTransfer(sql: Sql, organizationId: string, deviceId: string): Promise<string> {
  const id = Bun.randomUUIDv7();
  await sql`
    insert into file_transfers (id, organization_id, device_id, direction, path, size, state, staging_name, actor_type, finished_at)
    values (${id}, ${organizationId}, ${deviceId}, 'download', '/tmp/x', 1, 'done', ${id}, 'user', now())`;
  return id;
}
