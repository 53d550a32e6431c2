import type { Sql } from "postgres";

/** How long the previous secret keeps working after a rotation, so in-flight requests land. */
const PREVIOUS_SECRET_GRACE = "1 hour";

/** A device's signing keys: current, pending (mid-rotation) and previous (while its grace lasts). */
export interface DeviceKeys {
  id: string;
  organizationId: string;
  hostname: string;
  current: Buffer;
  pending: Buffer | null;
  previous: Buffer | null;
  /** The current secret is older than the rotation period. */
  rotationDue: boolean;
}

/** The signing keys of several devices in one statement (unknown ids are absent). */
export async function deviceKeysMany(sql: Sql, deviceIds: string[], rotationS: number): Promise<DeviceKeys[]> {
  // a function: its plan is made once per connection, not for every handshake moment (migration 00046)
  return sql<DeviceKeys[]>`
    select id, organization_id as "organizationId", hostname, current, pending, previous, rotation_due as "rotationDue"
    from device_signing_keys(${deviceIds}::uuid[], ${rotationS}::float8)`;
}

/**
 * How long an offered secret blocks another offer: well past the socket call's deadline and the
 * beacon's HTTP timeout, so two secrets are never in flight to one agent at once.
 */
const PENDING_OFFER_S = 120;

/**
 * Starts a rotation: the new secret's signing key is stored as pending. False (nothing stored) while
 * another offer is in flight; a pending key older than that was never taken up and is replaced.
 */
export async function setPendingKey(sql: Sql, deviceId: string, key: Buffer): Promise<boolean> {
  const rows = await sql`
    update devices set pending_secret_hash = ${key}, pending_secret_at = now()
    where id = ${deviceId}
      and (pending_secret_hash is null or pending_secret_at is null
        or pending_secret_at < now() - make_interval(secs => ${PENDING_OFFER_S}))
    returning id`;
  return rows.length > 0;
}

/**
 * The agent has persisted the new secret: it becomes current, the old one stays valid briefly. With
 * `key`, only if that is still the pending key (the one the agent was handed).
 */
export async function completeRotation(sql: Sql, deviceId: string, key?: Buffer): Promise<void> {
  await sql`
    update devices set previous_secret_hash = secret_hash,
      previous_secret_valid_until = now() + ${PREVIOUS_SECRET_GRACE}::interval,
      secret_hash = pending_secret_hash, pending_secret_hash = null, pending_secret_at = null, secret_rotated_at = now()
    where id = ${deviceId} and pending_secret_hash is not null
      ${key ? sql`and pending_secret_hash = ${key}` : sql``}`;
}

/** Devices connected to this node whose secret is older than the rotation period (`rotationS`, seconds). */
export async function rotationDue(sql: Sql, nodeId: string, rotationS: number, max: number): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    select id from devices
    where ws_node = ${nodeId}
      and (pending_secret_hash is null or pending_secret_at < now() - make_interval(secs => ${PENDING_OFFER_S}))
      and secret_rotated_at < now() - make_interval(secs => ${rotationS})
    limit ${max}`;
  return rows.map((r) => r.id);
}
