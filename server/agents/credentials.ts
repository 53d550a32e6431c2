import type { Sql } from "postgres";
import { sameHex } from "../lib/crypto.ts";
import { SIGNATURE_WINDOW_MS, signBody, signingKey } from "../protocol/signing.ts";

/** How long the previous secret keeps working after a rotation, so in-flight requests land. */
const PREVIOUS_SECRET_GRACE = "1 hour";

export interface DeviceIdentity {
  id: string;
  organizationId: string;
  hostname: string;
  rotationDue: boolean;
}

export type VerifyFailure = "unknown_device" | "bad_signature" | "stale_timestamp";

/**
 * Checks a device's signature over `timestampMs.message` against its current, pending (mid-rotation)
 * and recently previous keys. A signature made with the pending key completes the rotation.
 */
export async function verifyDevice(
  sql: Sql,
  deviceId: string,
  timestampMs: number,
  message: string,
  signature: string,
  rotationS: number,
): Promise<DeviceIdentity | VerifyFailure> {
  if (!Number.isFinite(timestampMs) || Math.abs(Date.now() - timestampMs) > SIGNATURE_WINDOW_MS) return "stale_timestamp";
  const [row] = await sql<
    {
      id: string;
      organizationId: string;
      hostname: string;
      current: Buffer;
      pending: Buffer | null;
      previous: Buffer | null;
      rotationDue: boolean;
    }[]
  >`
    select id, organization_id as "organizationId", hostname, secret_hash as current, pending_secret_hash as pending,
      case when previous_secret_valid_until > now() then previous_secret_hash end as previous,
      secret_rotated_at < now() - make_interval(secs => ${rotationS}) as "rotationDue"
    from devices where id = ${deviceId}`;
  if (!row) return "unknown_device";
  const matches = (key: Buffer | null) => key !== null && sameHex(signBody(key, timestampMs, message), signature);
  if (matches(row.current) || matches(row.previous)) {
    return {
      id: row.id,
      organizationId: row.organizationId,
      hostname: row.hostname,
      rotationDue: row.rotationDue,
    };
  }
  if (matches(row.pending)) {
    await completeRotation(sql, row.id);
    return {
      id: row.id,
      organizationId: row.organizationId,
      hostname: row.hostname,
      rotationDue: false,
    };
  }
  return "bad_signature";
}

/** Starts a rotation: the new secret's key is stored as pending; returns the secret to hand to the agent. */
export async function beginRotation(sql: Sql, deviceId: string): Promise<string> {
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
  await sql`update devices set pending_secret_hash = ${signingKey(secret)} where id = ${deviceId}`;
  return secret;
}

/** The agent has persisted the new secret: it becomes current, the old one stays valid briefly. */
export async function completeRotation(sql: Sql, deviceId: string): Promise<void> {
  await sql`
    update devices set previous_secret_hash = secret_hash,
      previous_secret_valid_until = now() + ${PREVIOUS_SECRET_GRACE}::interval,
      secret_hash = pending_secret_hash, pending_secret_hash = null, secret_rotated_at = now()
    where id = ${deviceId} and pending_secret_hash is not null`;
}

/**
 * Accepts a beacon timestamp only if it is newer than the last accepted one (replay protection
 * that holds across server nodes and restarts) and records the contact.
 */
export async function acceptBeacon(sql: Sql, deviceId: string, timestampMs: number): Promise<{ ackedSeq: number } | undefined> {
  const [row] = await sql<{ seq: string }[]>`
    update devices set last_beacon_ts = ${timestampMs}, last_seen_at = now()
    where id = ${deviceId} and last_beacon_ts < ${timestampMs}
    returning last_batch_seq as seq`;
  return row ? { ackedSeq: Number(row.seq) } : undefined;
}

export async function ackedSeq(sql: Sql, deviceId: string): Promise<number> {
  const [row] = await sql<{ seq: string }[]>`select last_batch_seq as seq from devices where id = ${deviceId}`;
  return Number(row?.seq ?? 0);
}

/** Devices connected to this node whose secret is older than the rotation period. */
export async function rotationDue(sql: Sql, nodeId: string, rotationS: number, max: number): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    select id from devices
    where ws_node = ${nodeId} and pending_secret_hash is null
      and secret_rotated_at < now() - make_interval(secs => ${rotationS})
    limit ${max}`;
  return rows.map((r) => r.id);
}
